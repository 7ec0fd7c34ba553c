#include "engine/journal/codec.h"

#include "engine/hash.h"

namespace reconcile {

std::string JournalHeader() { return "{\"reconcile_journal\":" + std::to_string(kJournalFormat) + "}"; }

Status CheckFormat(long long format, const std::string& journal) {
  if (format == kJournalFormat) return Status::Ok();
  if (format > kJournalFormat)
    return Error{"the journal " + journal + " was written by a newer version of reconcile (journal format " +
                     std::to_string(format) + "; this one reads format " + std::to_string(kJournalFormat) +
                     "): run the reconcile that wrote it, or a newer one. Nothing was read or changed",
                 ErrorCode::kNotSupported};
  return Error{""};
}

Status CheckHeader(const std::string& line, const std::string& journal, bool* is_header) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  auto it = j.is_object() ? j.find("reconcile_journal") : j.end();
  *is_header = j.is_object() && it != j.end() && it->is_number_integer();
  if (!*is_header) return Error{""};
  return CheckFormat(it->get<long long>(), journal);
}

std::string EncodeLine(const JournalRecord& r) {
  // What dumping {seq, at, kind, data, sum} as one object gives (keys sorted, "sum" last),
  // with the data dumped once: its text up to "sum" is what the checksum is taken of.
  std::string body = RecordSummedText(r);
  std::string sum = Sha256Hex(body).substr(0, 16);
  body.back() = ',';
  return body + "\"sum\":\"" + sum + "\"}";
}

namespace {

// A line as EncodeLine writes it ends in ,"sum":"<16 hex>"} and the rest of it is the very
// text its checksum was taken of: hashing that slice spares dumping the record again, which
// was a third of reading a large journal. Any other line is checked the long way.
bool SumOfWrittenText(const std::string& line, const std::string& sum) {
  static const std::string kSum = ",\"sum\":\"";
  const std::size_t n = line.size(), tail = kSum.size() + 18;  // 16 hex digits, then "}
  if (sum.size() != 16 || n < tail + 1 || line.compare(n - tail, kSum.size(), kSum) != 0 ||
      line.compare(n - 18, 16, sum) != 0 || line.compare(n - 2, 2, "\"}") != 0)
    return false;
  std::string body = line.substr(0, n - tail) + "}";
  return Sha256Hex(body).substr(0, 16) == sum;
}

}  // namespace

Result<JournalRecord> DecodeLine(const std::string& line, bool* intact) {
  *intact = false;
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return Error{"not a JSON record"};
  bool whole = j.is_object() && j.contains("seq") && j["seq"].is_number_unsigned() && j.contains("kind") &&
               j["kind"].is_string() && j.contains("data") && j.contains("sum") && j["sum"].is_string() &&
               (!j.contains("at") || j["at"].is_string());
  if (!whole) return Error{"its checksum does not match its content"};
  JournalRecord r;
  r.seq = j["seq"].get<std::uint64_t>();
  r.at = j.value("at", "");
  r.kind = j["kind"].get<std::string>();
  r.data = std::move(j["data"]);
  const std::string& sum = j["sum"].get_ref<const std::string&>();
  if (!SumOfWrittenText(line, sum) && RecordChecksum(r) != sum) return Error{"its checksum does not match its content"};
  *intact = true;
  if (std::string why = RecordShapeError(r); !why.empty())
    return Error{"record " + std::to_string(r.seq) + " (" + r.kind + "): " + why};
  return r;
}

std::string RecordError(const JournalRecord& r, const std::string& sum) {
  if (RecordChecksum(r) != sum) return "its checksum does not match its content";
  if (std::string why = RecordShapeError(r); !why.empty())
    return "record " + std::to_string(r.seq) + " (" + r.kind + "): " + why;
  return "";
}

}  // namespace reconcile
