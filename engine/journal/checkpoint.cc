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
  std::string text = head.dump(), states;
  text.back() = ',';
  text += "\"summary\":";
  fold.WriteJson(&text, &states);
  text += "}\n";
  text += states;
  text += "\n";
  return text + Sha256Hex(text) + "\n";
}

std::optional<Checkpoint> ParseCheckpoint(const std::string& text) {
  // The summary's line, its states' line, then the SHA-256 of both.
  constexpr std::size_t kSumLine = 64 + 1;
  if (text.size() < kSumLine + 2 || text.back() != '\n' || text[text.size() - kSumLine - 1] != '\n')
    return std::nullopt;
  std::string_view body(text.data(), text.size() - kSumLine);
  if (text.compare(body.size(), kSumLine - 1, Sha256Hex(body)) != 0) return std::nullopt;  // torn, or altered
  std::size_t nl = body.find('\n');
  if (nl + 1 == body.size()) return std::nullopt;
  std::string_view line = body.substr(0, nl), states = body.substr(nl + 1, body.size() - nl - 2);
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  try {
    if (!j.is_object() || j.at("checkpoint") != kCheckpointFormat || j.at("writer") != kWriter) return std::nullopt;
    Checkpoint c;
    c.size = j.at("size").get<off_t>();
    c.head_sha256 = j.at("head_sha256").get<std::string>();
    c.last_line = j.at("last_line").get<off_t>();
    c.last_sha256 = j.at("last_sha256").get<std::string>();
    auto fold = HistoryFold::FromJson(std::move(j.at("summary")), states);
    if (!fold || c.size <= 0 || c.last_line < 0 || c.last_line >= c.size) return std::nullopt;
    c.fold = std::move(*fold);
    return c;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace reconcile
