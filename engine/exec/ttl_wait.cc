#include "engine/exec/ttl_wait.h"
#include "engine/journal/history.h"
#include "engine/journal/records.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <thread>

#include "engine/duration.h"
#include "engine/exec/executor.h"

namespace reconcile {

namespace {

// Unless the opt-out attribute, as written or else at its default, is false.
bool WaitsOut(const Resource& r) {
  const AttrSchema* opt_out = r.schema->Find(r.schema->cached_ttl_opt_out_attr);
  if (!opt_out) return true;
  auto it = r.attrs.find(opt_out->name);
  Value v = it != r.attrs.end() ? it->second.value : DefaultValue(*opt_out);
  return !std::holds_alternative<bool>(v) || std::get<bool>(v);
}

}  // namespace

std::vector<TtlWait> PendingTtlWaits(const Spec& spec, const History& history, std::size_t stage,
                                     std::chrono::system_clock::time_point now) {
  std::vector<TtlWait> out;
  for (const auto& [address, by_stage] : history.changes_seen) {
    const Resource* r = spec.Find(address);
    if (!r || r->schema->cached_ttl_attr.empty() || !WaitsOut(*r)) continue;
    // The latest change made in a stage before this one.
    const std::pair<const std::string, ChangeSeen>* latest = nullptr;
    std::int64_t seconds = 0;
    std::optional<UtcTime> done_at;
    for (const auto& entry : by_stage) {
      const auto& [stage_name, c] = entry;
      auto stage_index = spec.FindStage(stage_name);
      if (!stage_index || *stage_index >= stage || (latest && c.seq < latest->second.seq)) continue;
      auto ttl = c.prior_numbers.find(r->schema->cached_ttl_attr);
      auto at = ParseUtc(c.at);
      if (ttl == c.prior_numbers.end() || !ttl->is_number_integer() || !at) continue;
      latest = &entry;
      // DNS's own range (RFC 2181): a larger number, from a server or a damaged journal,
      // would overflow the clock.
      seconds = std::clamp<std::int64_t>(ttl->get<std::int64_t>(), 0, 2147483647);
      done_at = at;
    }
    if (!latest) continue;
    // A journal of whole seconds rounded down: one more is never too early.
    TtlWait w{address, latest->first, seconds,
              done_at->at + std::chrono::seconds(seconds + (done_at->whole_seconds ? 1 : 0))};
    if (w.until > now) out.push_back(w);
  }
  std::sort(out.begin(), out.end(), [](const TtlWait& a, const TtlWait& b) { return a.until > b.until; });
  return out;
}

Status WaitOutTtls(const std::vector<TtlWait>& waits, const std::string& stage, Progress& progress) {
  if (waits.empty()) return Status::Ok();
  const TtlWait& last = waits.front();
  auto left = [&] {
    // Milliseconds, so a wait under a second is announced as what it is, not as "0ms".
    return std::chrono::duration_cast<std::chrono::milliseconds>(last.until - std::chrono::system_clock::now());
  };
  progress.Note("stage " + stage + " waits " + FormatDuration(left()) + ": " + last.address + " changed in stage " +
                last.stage + " and resolvers may cache its old answer for its old TTL (" + std::to_string(last.ttl) +
                "s)" + (waits.size() > 1 ? ", and " + std::to_string(waits.size() - 1) + " more" : "") +
                "; set wait_old_ttl = false on it not to wait");
  auto next_note = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (left().count() > 0) {
    if (g_interrupts.load() > 0) return Error{"interrupted while waiting out " + last.address + "'s old TTL"};
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() >= next_note && left().count() > 0) {
      progress.Note("stage " + stage + ": " + FormatDuration(left()) + " left of " + last.address + "'s old TTL");
      next_note += std::chrono::seconds(10);
    }
  }
  return Status::Ok();
}

}  // namespace reconcile
