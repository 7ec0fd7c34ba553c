#include "engine/journal/checkpoint.h"

#include "engine/hash.h"

namespace reconcile {

namespace {

// What wrote it: a summary is read only by a reconcile that sums up the same way, so the
// fold's rules and form may change without a migration. RECONCILE_SUMMARY_RULES is the
// SHA-256 of the files that define them (CMakeLists.txt), so two builds of one version
// whose rules differ do not read each other's.
constexpr int kCheckpointFormat = 1;
constexpr const char* kWriter = "reconcile " RECONCILE_VERSION " " RECONCILE_SUMMARY_RULES;

}  // namespace

std::string CheckpointText(const Checkpoint& c, const HistoryFold& fold) {
  nlohmann::json head = {{"checkpoint", kCheckpointFormat}, {"writer", kWriter},        {"size", c.size},
                         {"head_sha256", c.head_sha256},    {"last_line", c.last_line}, {"last_sha256", c.last_sha256}};
  std::string line = head.dump();
  line.back() = ',';
  line += "\"summary\":";
  fold.WriteJson(&line);
  line += "}";
  return line + "\n" + Sha256Hex(line) + "\n";
}

std::optional<Checkpoint> ParseCheckpoint(const std::string& text) {
  std::size_t nl = text.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  std::string_view line(text.data(), nl);
  if (text.compare(nl + 1, std::string::npos, Sha256Hex(line) + "\n") != 0) return std::nullopt;  // torn, or altered
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  try {
    if (!j.is_object() || j.at("checkpoint") != kCheckpointFormat || j.at("writer") != kWriter) return std::nullopt;
    Checkpoint c;
    c.size = j.at("size").get<off_t>();
    c.head_sha256 = j.at("head_sha256").get<std::string>();
    c.last_line = j.at("last_line").get<off_t>();
    c.last_sha256 = j.at("last_sha256").get<std::string>();
    auto fold = HistoryFold::FromJson(std::move(j.at("summary")));
    if (!fold || c.size <= 0 || c.last_line < 0 || c.last_line >= c.size) return std::nullopt;
    c.fold = std::move(*fold);
    return c;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace reconcile
