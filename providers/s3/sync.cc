#include "providers/s3/sync.h"

#include "engine/markup.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <optional>
#include <thread>

#include <pugixml.hpp>

#include "providers/s3/local_tree.h"
#include "providers/s3/s3_api.h"
#include "providers/s3/s3_client.h"
#include "providers/s3/s3_provider.h"
#include "providers/s3/sync_lists.h"

namespace reconcile::s3 {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kMiB = 1 << 20;
// S3's limit for one CopyObject; larger objects can only be copied in parts.
constexpr std::uint64_t kCopyObjectMax = std::uint64_t{5} << 30;
const char* kSourceEtagMeta = "x-amz-meta-reconcile-source-etag";

struct Location {
  bool local = false;
  std::string dir;     // local
  std::string bucket;  // s3
  std::string prefix;  // "" or ending in '/'
  std::string Key(const std::string& relative) const { return prefix + relative; }
  std::string Text() const { return local ? dir : "s3://" + bucket + "/" + prefix; }
};

Result<Location> ParseLocation(const std::string& text) {
  Location l;
  if (text.rfind("s3://", 0) == 0) {
    std::string rest = text.substr(5);
    auto slash = rest.find('/');
    l.bucket = rest.substr(0, slash);
    if (slash != std::string::npos) l.prefix = rest.substr(slash + 1);
    if (l.bucket.empty()) return Error{"'" + text + "' names no bucket; write s3://BUCKET/ or s3://BUCKET/PREFIX/"};
    if (!l.prefix.empty() && l.prefix.back() != '/') l.prefix += '/';
    return l;
  }
  l.local = true;
  l.dir = text;
  return l;
}

struct Config {
  Endpoint endpoint;
  int transfers = 0;  // these three from the provider (ConfigFor)
  std::uint64_t part_size = 0;
  std::uint64_t threshold = 0;
  Location source, target;
  bool delete_extra = false;
};

Result<Config> ConfigFor(const Target& t) {
  Config c;
  auto ep = EndpointFor(t);
  if (!ep) return ep.error();
  c.endpoint = std::move(*ep);
  c.transfers = TransfersFor(t);
  c.part_size = static_cast<std::uint64_t>(PositiveKey(t, "part_size_mib")) * kMiB;
  c.threshold = static_cast<std::uint64_t>(PositiveKey(t, "multipart_threshold_mib")) * kMiB;
  auto source = ParseLocation(StringAttr(t.desired, "source"));
  if (!source) return Error{"source " + source.error().message};
  auto target = ParseLocation(StringAttr(t.desired, "target"));
  if (!target) return Error{"target " + target.error().message};
  if (target->local) return Error{"target must be a bucket, s3://BUCKET/PREFIX, not '" + target->dir + "'"};
  c.source = std::move(*source);
  c.target = std::move(*target);
  c.delete_extra = BoolAttr(t.desired, "delete_extra").value_or(false);
  return c;
}

std::vector<Listed> Relative(const std::vector<Object>& objects, const std::string& prefix) {
  std::vector<Listed> out;
  out.reserve(objects.size());
  for (const Object& o : objects)
    if (o.key.size() > prefix.size()) out.push_back({o.key.substr(prefix.size()), o.size, o.etag});
  return out;
}

std::string ContentType(const std::string& key) {
  static const std::map<std::string, std::string> types = {
      {"html", "text/html"},        {"htm", "text/html"},       {"css", "text/css"},        {"js", "text/javascript"},
      {"json", "application/json"}, {"txt", "text/plain"},      {"xml", "application/xml"}, {"svg", "image/svg+xml"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},     {"gif", "image/gif"},
      {"webp", "image/webp"},       {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"gz", "application/gzip"},
      {"mp4", "video/mp4"},         {"ico", "image/x-icon"}};
  auto dot = key.rfind('.');
  if (dot == std::string::npos || key.find('/', dot) != std::string::npos) return "application/octet-stream";
  std::string ext = key.substr(dot + 1);
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

std::string CopySource(const std::string& bucket, const std::string& key, const std::string& version = "") {
  return "x-amz-copy-source: /" + bucket + "/" + UriEncode(key, true) +
         (version.empty() ? "" : "?versionId=" + UriEncode(version, false));
}

// CopyObject and CompleteMultipartUpload can answer 200 with an <Error> body.
bool Succeeded(const Response& r) { return r.ok() && r.body.find("<Error>") == std::string::npos; }

Result<std::shared_ptr<const std::string>> ReadFile(const std::string& path, std::uint64_t offset = 0,
                                                    std::uint64_t length = UINT64_MAX) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string data;
  if (length == UINT64_MAX) {
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    data.resize(length);
    in.read(data.data(), static_cast<std::streamsize>(length));
    data.resize(static_cast<std::size_t>(in.gcount()));
  }
  return std::make_shared<const std::string>(std::move(data));
}

// Objects, bytes, rate and time left, at most once a second.
class Meter {
 public:
  Meter(const Change& change, std::string verb, std::size_t objects, std::uint64_t bytes)
      : change_(change),
        verb_(std::move(verb)),
        objects_(objects),
        bytes_(bytes),
        start_(Clock::now()),
        last_(start_) {}
  void Add(std::uint64_t bytes, std::size_t objects) {
    done_bytes_ += bytes;
    done_objects_ += objects;
    auto now = Clock::now();
    if (now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? static_cast<double>(done_bytes_) / secs : 0;
    std::string line = verb_ + " " + std::to_string(done_objects_) + "/" + std::to_string(objects_) + " objects, " +
                       Bytes(done_bytes_) + " of " + Bytes(bytes_) + ", " + Bytes(static_cast<std::uint64_t>(rate)) +
                       "/s";
    if (rate > 0 && bytes_ > done_bytes_) {
      char eta[32];
      std::snprintf(eta, sizeof eta, ", about %.0fs left", static_cast<double>(bytes_ - done_bytes_) / rate);
      line += eta;
    }
    if (change_.report) change_.report(line);
  }
  void Finish(const std::string& what) {
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    char took[32];
    std::snprintf(took, sizeof took, "%.1fs", secs);
    if (change_.report && objects_ > 0)
      change_.report(what + " " + Objects(done_objects_) + ", " + Bytes(done_bytes_) + " in " + took);
  }

 private:
  const Change& change_;
  std::string verb_;
  std::size_t objects_;
  std::uint64_t bytes_;
  std::uint64_t done_bytes_ = 0;
  std::size_t done_objects_ = 0;
  Clock::time_point start_, last_;
};

struct Failures {
  std::vector<std::string> lines;
  void Add(const std::string& key, const std::string& why) { lines.push_back(key + ": " + why); }
  std::string Text() const {
    std::string out;
    for (std::size_t i = 0; i < lines.size() && i < 5; ++i) out += "\n  " + lines[i];
    if (lines.size() > 5) out += "\n  … and " + std::to_string(lines.size() - 5) + " more";
    return out;
  }
};

// What a copy that replaces its metadata (to keep the source's ETag beside it) must carry over
// so that nothing of the source is lost: its content headers and user metadata, as
// `aws s3 cp --copy-props default` does. `head` answers a HEAD of the source object.
std::vector<std::string> CopiedProps(const Response& head, const std::string& key, const std::string& etag) {
  std::vector<std::string> out;
  std::string type = head.Header("content-type");
  out.push_back("Content-Type: " + (type.empty() ? ContentType(key) : type));
  for (const char* name : {"cache-control", "content-disposition", "content-encoding", "content-language", "expires"})
    if (std::string v = head.Header(name); !v.empty()) out.push_back(std::string(name) + ": " + v);
  for (const auto& [name, value] : head.headers)
    if (name.rfind("x-amz-meta-", 0) == 0 && name != kSourceEtagMeta) out.push_back(name + ": " + value);
  out.push_back(std::string(kSourceEtagMeta) + ": " + etag);
  return out;
}

Request HeadSource(const Config& c, const Entry& e) {
  Request head;
  head.method = "HEAD";
  head.bucket = c.source.bucket;
  head.key = c.source.Key(e.key);
  return head;
}

// One object in parts: CreateMultipartUpload, the parts (copied ranges or read from the
// file) in parallel, Complete; Abort on failure so no parts are left behind to pay for.
Status Multipart(Client& client, const Config& c, const Entry& e, const LocalFile* file, Meter& meter) {
  const std::string key = c.target.Key(e.key);
  Request create;
  create.method = "POST";
  create.bucket = c.target.bucket;
  create.key = key;
  create.query = {{"uploads", ""}};
  // Part sizes change the ETag; the source's is kept so a later probe can tell it is the same.
  if (file) {
    create.headers.push_back("Content-Type: " + ContentType(key));
    if (!e.etag.empty()) create.headers.push_back(std::string(kSourceEtagMeta) + ": " + e.etag);
  } else {
    Response head = client.Do(HeadSource(c, e));
    if (!head.ok()) return Error{Failed("reading the source's metadata", head)};
    create.headers = CopiedProps(head, key, e.etag);
  }
  Response r = client.Do(create);
  pugi::xml_document doc;
  if (!r.ok() || !doc.load_buffer(r.body.data(), r.body.size())) return Error{Failed("starting a multipart upload", r)};
  std::string upload = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (upload.empty()) return Error{"starting a multipart upload: the answer has no UploadId"};
  auto abort = [&](const std::string& why) -> Status {
    Request a;
    a.method = "DELETE";
    a.bucket = c.target.bucket;
    a.key = key;
    a.query = {{"uploadId", upload}};
    client.Do(a);
    return Error{why};
  };
  std::uint64_t parts = std::max<std::uint64_t>(1, (e.size + c.part_size - 1) / c.part_size);
  std::vector<std::string> etags(parts);
  // Parts go in groups of `transfers`, so memory stays at transfers × part_size.
  for (std::uint64_t first = 0; first < parts; first += c.transfers) {
    std::vector<Request> batch;
    std::uint64_t last = std::min<std::uint64_t>(parts, first + c.transfers);
    for (std::uint64_t p = first; p < last; ++p) {
      std::uint64_t off = p * c.part_size, len = std::min(c.part_size, e.size - off);
      Request part;
      part.method = "PUT";
      part.bucket = c.target.bucket;
      part.key = key;
      part.query = {{"partNumber", std::to_string(p + 1)}, {"uploadId", upload}};
      if (file) {
        auto body = ReadFile(file->path, off, len);
        if (!body) return abort(body.error().message);
        part.body = *body;
      } else {
        part.headers.push_back(CopySource(c.source.bucket, c.source.Key(e.key)));
        part.headers.push_back("x-amz-copy-source-range: bytes=" + std::to_string(off) + "-" +
                               std::to_string(off + len - 1));
      }
      batch.push_back(std::move(part));
    }
    auto out = client.Run(batch, c.transfers);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (!Succeeded(out[i])) return abort(Failed("part " + std::to_string(first + i + 1), out[i]));
      std::string etag = out[i].Header("etag");
      if (!file) {
        pugi::xml_document part_doc;
        part_doc.load_buffer(out[i].body.data(), out[i].body.size());
        etag = part_doc.child("CopyPartResult").child_value("ETag");
      }
      if (etag.empty()) return abort("part " + std::to_string(first + i + 1) + ": the answer has no ETag");
      etags[first + i] = etag;
      meter.Add(std::min(c.part_size, e.size - (first + i) * c.part_size), 0);
    }
  }
  std::string xml = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags.size(); ++i)
    xml +=
        "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + XmlEscape(etags[i]) + "</ETag></Part>";
  xml += "</CompleteMultipartUpload>";
  Request complete;
  complete.method = "POST";
  complete.bucket = c.target.bucket;
  complete.key = key;
  complete.query = {{"uploadId", upload}};
  complete.headers.push_back("Content-Type: application/xml");
  complete.body = std::make_shared<const std::string>(std::move(xml));
  Response done = client.Do(complete);
  if (!Succeeded(done)) return abort(Failed("completing the multipart upload", done));
  meter.Add(0, 1);
  return Status::Ok();
}

// Copies (or uploads) every entry to the target; the failures are returned, not thrown.
void Transfer(Client& client, const Config& c, const std::vector<Entry>& todo,
              const std::map<std::string, const LocalFile*>& files, Meter& meter, Failures* failed) {
  std::vector<const Entry*> small, large;
  // A server-side copy in one request moves no bytes through us and costs the server one
  // request instead of one per part, so parts are only for what one CopyObject cannot take.
  for (const Entry& e : todo)
    (e.size >= (c.source.local ? c.threshold : kCopyObjectMax + 1) ? large : small).push_back(&e);
  // A copy of an object with a multipart ETag replaces its metadata (below): the source's is
  // read first, all at once, so the copy carries it over.
  std::map<const Entry*, Response> heads;
  if (!c.source.local) {
    std::vector<Request> ask;
    std::vector<const Entry*> whose;
    for (const Entry* e : small)
      if (e->etag.find('-') != std::string::npos) {
        ask.push_back(HeadSource(c, *e));
        whose.push_back(e);
      }
    std::vector<Response> got = client.Run(ask, c.transfers);
    for (std::size_t i = 0; i < got.size(); ++i) heads[whose[i]] = std::move(got[i]);
  }
  // One request each, in parallel; uploads in groups of at most 256 MiB read at once.
  for (std::size_t start = 0; start < small.size();) {
    std::vector<Request> batch;
    std::vector<const Entry*> which;
    std::uint64_t held = 0;
    for (; start < small.size() && held < 256 * kMiB; ++start) {
      const Entry& e = *small[start];
      Request put;
      put.method = "PUT";
      put.bucket = c.target.bucket;
      put.key = c.target.Key(e.key);
      if (c.source.local) {
        auto body = ReadFile(files.at(e.key)->path);
        if (!body) {
          failed->Add(e.key, body.error().message);
          continue;
        }
        held += (*body)->size();
        put.headers.push_back("Content-MD5: " + Md5Base64(**body));
        put.headers.push_back("Content-Type: " + ContentType(e.key));
        put.body = *body;
      } else {
        put.headers.push_back(CopySource(c.source.bucket, c.source.Key(e.key)));
        // A plain ETag is the content's MD5, which the copy keeps, so the probe sees it equal.
        // A multipart one ("…-N") may not survive the copy: the source's is kept, as by
        // Multipart, for the probe to compare.
        if (auto head = heads.find(&e); head != heads.end()) {
          if (!head->second.ok()) {
            failed->Add(e.key, Failed("reading the source's metadata", head->second));
            continue;
          }
          put.headers.push_back("x-amz-metadata-directive: REPLACE");
          for (std::string& h : CopiedProps(head->second, e.key, e.etag)) put.headers.push_back(std::move(h));
        }
      }
      batch.push_back(std::move(put));
      which.push_back(&e);
    }
    Progress progress;
    progress.done = [&](std::size_t i, const Response& r) {
      if (Succeeded(r)) meter.Add(which[i]->size, 1);
    };
    auto out = client.Run(batch, c.transfers, progress);
    for (std::size_t i = 0; i < out.size(); ++i)
      if (!Succeeded(out[i])) failed->Add(which[i]->key, out[i].Describe());
  }
  for (const Entry* e : large) {
    const LocalFile* file = c.source.local ? files.at(e->key) : nullptr;
    if (Status s = Multipart(client, c, *e, file, meter); !s) failed->Add(e->key, s.message());
  }
}

// DeleteObjects, 1,000 keys a request.
void Delete(Client& client, const Config& c, const std::vector<Entry>& entries, Meter& meter, Failures* failed) {
  std::vector<Request> batch;
  std::vector<std::vector<const Entry*>> which;
  for (std::size_t start = 0; start < entries.size(); start += 1000) {
    std::string xml = "<Delete><Quiet>true</Quiet>";
    which.emplace_back();
    for (std::size_t i = start; i < entries.size() && i < start + 1000; ++i) {
      xml += "<Object><Key>" + XmlEscape(c.target.Key(entries[i].key)) + "</Key></Object>";
      which.back().push_back(&entries[i]);
    }
    xml += "</Delete>";
    Request r;
    r.method = "POST";
    r.bucket = c.target.bucket;
    r.query = {{"delete", ""}};
    r.headers.push_back("Content-Type: application/xml");
    r.headers.push_back("Content-MD5: " + Md5Base64(xml));
    r.body = std::make_shared<const std::string>(std::move(xml));
    batch.push_back(std::move(r));
  }
  auto out = client.Run(batch, c.transfers);
  for (std::size_t b = 0; b < out.size(); ++b) {
    if (!out[b].ok()) {
      for (const Entry* e : which[b]) failed->Add(e->key, "not deleted: " + out[b].Describe());
      continue;
    }
    std::map<std::string, std::string> errors;
    pugi::xml_document doc;
    if (doc.load_buffer(out[b].body.data(), out[b].body.size()))
      for (pugi::xml_node err : doc.child("DeleteResult").children("Error"))
        errors[err.child_value("Key")] = std::string(err.child_value("Code")) + ": " + err.child_value("Message");
    for (const Entry* e : which[b]) {
      auto it = errors.find(c.target.Key(e->key));
      if (it != errors.end()) failed->Add(e->key, "not deleted: " + it->second);
      else meter.Add(e->old_size, 1);
    }
  }
}

State Settled(const Target& t) {
  State s{true, {}};
  for (const char* k : {"source", "target", "delete_extra"})
    if (t.desired.count(k)) s.attrs[k] = t.desired.at(k);
  return s;
}

std::uint64_t SumSizes(const std::vector<Entry>& entries, bool old) {
  std::uint64_t n = 0;
  for (const Entry& e : entries) n += old ? e.old_size : e.size;
  return n;
}

Result<State> RollBack(Client& client, const Config& c, const Change& change) {
  Lists wanted = ListsOf(change.target.desired, change.target.desired_private.str());
  Undo u = PlanUndo(ListsOf(change.prior), wanted);
  Failures failed;
  Meter deleting(change, "deleting", u.remove.size(), SumSizes(u.remove, false));
  // What the sync created holds its size as `size`; Delete counts old_size.
  std::vector<Entry> created = u.remove;
  for (Entry& e : created) e.old_size = e.size;
  Delete(client, c, created, deleting, &failed);
  deleting.Finish("deleted");
  std::vector<Request> restores;
  for (const Entry& e : u.restore) {
    Request r;
    r.method = "PUT";
    r.bucket = c.target.bucket;
    r.key = c.target.Key(e.key);
    r.headers.push_back(CopySource(c.target.bucket, c.target.Key(e.key), e.old_version));
    restores.push_back(std::move(r));
  }
  auto out = client.Run(restores, c.transfers);
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!Succeeded(out[i])) failed.Add(u.restore[i].key, "not restored: " + out[i].Describe());
  if (change.report) {
    if (!u.restore.empty())
      change.report("restored " + Objects(u.restore.size() - failed.lines.size()) +
                    " to their versions before the sync");
    if (!u.changed_since.empty())
      change.report(Objects(u.changed_since.size()) +
                    " the sync created changed since and are left as they are, e.g. " + u.changed_since[0].key);
    if (!u.lost.empty())
      change.report(Objects(u.lost.size()) +
                    " the sync overwrote or deleted have no earlier version and stay as the sync left them, "
                    "e.g. " +
                    u.lost[0].key);
  }
  if (!failed.lines.empty())
    return Error{Objects(failed.lines.size()) + " could not be rolled back:" + failed.Text() +
                 "\n  roll back again to retry them"};
  // What the world now is, in the terms a later probe is compared with: the undo itself, less
  // the objects that cannot come back (they stay as the sync left them). Journaled as "settled"
  // instead, a repeated or resumed rollback would read its own work as someone else's change.
  std::set<std::string> lost;
  for (const Entry& e : u.lost) lost.insert(e.key);
  for (std::vector<Entry>* list : {&wanted.differing, &wanted.extra})
    std::erase_if(*list, [&](const Entry& e) { return lost.count(e.key) > 0; });
  State undone = Settled(change.target);
  undone.private_data = Pack(wanted);
  return undone;
}

}  // namespace

TypeSchema SyncType() {
  return {
      .name = "s3_sync",
      .doc = "A bucket prefix that holds what another bucket prefix, or a local directory, holds.",
      .attrs =
          {
              // clang-format off
              {.name = "source", .type = AttrType::kString, .required = true, .identity = true,
               .doc = "s3://BUCKET/PREFIX, or a local directory"},
              {.name = "target", .type = AttrType::kString, .required = true, .identity = true,
               .pattern = "^s3://[^/]+(/.*)?$",
               .pattern_hint = "a bucket, written s3://BUCKET/ or s3://BUCKET/PREFIX/",
               .doc = "s3://BUCKET/PREFIX"},
              {.name = "delete_extra", .type = AttrType::kBool, .setting = true,
               .doc = "delete target objects the source does not have (undoable only in a versioned bucket)"},
              // clang-format on
          },
      .provider_kind = "s3",
      .also_provider_kinds = {"aws"},
      .probe_when_run = true,  // a source filled earlier in the same stage is listed when the sync runs
  };
}

Result<State> ProbeSync(const Target& t) {
  auto c = ConfigFor(t);
  if (!c) return c.error();
  // Both sides are listed at once, each on its own connection.
  Result<std::vector<Object>> target_objects = std::vector<Object>{};
  bool target_missing = false;
  std::thread target_lister([&] {
    Client client(c->endpoint);
    target_objects = ListObjects(client, c->target.bucket, c->target.prefix, &target_missing);
  });
  std::vector<Listed> source;
  std::map<std::string, LocalFile> files;
  Status source_status = Status::Ok();
  if (c->source.local) {
    auto listed = ListLocal(c->source.dir);
    if (!listed) source_status = listed.error();
    else
      for (LocalFile& f : *listed) {
        source.push_back({f.key, f.size, ""});
        files.emplace(f.key, std::move(f));
      }
  } else {
    Client client(c->endpoint);
    bool source_missing = false;
    auto objects = ListObjects(client, c->source.bucket, c->source.prefix, &source_missing);
    if (!objects) source_status = objects.error();
    else if (source_missing) {
      // Perhaps made earlier in this plan: nothing is compared (an empty source would make
      // every target object extra) until the sync runs and lists it again.
      target_lister.join();
      State s = Settled(t);
      s.private_data = Pack(Lists{.source_missing = true});
      return s;
    } else source = Relative(*objects, c->source.prefix);
  }
  target_lister.join();
  if (!source_status) return Error{source_status.message()};
  if (!target_objects) return Error{target_objects.error().message};
  std::vector<Listed> target = Relative(*target_objects, c->target.prefix);

  Client client(c->endpoint);
  Merged m = Merge(source, target, [&](const Listed& s, const Listed& d) {
    if (c->source.local) return LocalMatches(files.at(s.key), d.etag, c->part_size);
    // ETags of different part sizes: the target remembers the source's ETag it was copied from.
    if (s.etag.find('-') == std::string::npos && d.etag.find('-') == std::string::npos) return false;
    Request head;
    head.method = "HEAD";
    head.bucket = c->target.bucket;
    head.key = c->target.Key(d.key);
    Response r = client.Do(head);
    return r.ok() && r.Header(kSourceEtagMeta) == s.etag;
  });

  // What a local file will be written as, so a rollback can tell the object is still ours;
  // large files are left to the upload (reading them all at every plan would cost too much).
  if (c->source.local)
    for (Entry& e : m.missing)
      if (e.size < c->threshold) {
        auto etag = LocalEtag(files.at(e.key).path, 0, false);
        if (etag) e.etag = *etag;
      }
  // Versions matter only to objects already in the target that differ or are extra: a rollback
  // puts those back. When there are none (a no-op re-sync, a copy into an empty prefix) the
  // bucket's versioning is not asked: one request fewer, and on s3rver, which answers
  // ?versioning with a whole listing, a listing's worth of server time fewer.
  std::vector<Entry*> need;
  for (Entry& e : m.differing) need.push_back(&e);
  for (Entry& e : m.extra) need.push_back(&e);
  bool versioned = false;
  if (!target_missing && !need.empty()) {
    Request v;
    v.bucket = c->target.bucket;
    v.query = {{"versioning", ""}};
    Response r = client.Do(v);
    versioned = r.ok() && ParseVersioning(r.body) == "Enabled";
  }
  // What a rollback would go back to: each overwritten or extra object's current version.
  if (versioned) {
    std::vector<Request> heads;
    for (Entry* e : need) {
      Request h;
      h.method = "HEAD";
      h.bucket = c->target.bucket;
      h.key = c->target.Key(e->key);
      heads.push_back(std::move(h));
    }
    auto out = client.Run(heads, c->transfers);
    for (std::size_t i = 0; i < out.size(); ++i) need[i]->old_version = out[i].Header("x-amz-version-id");
  }
  State s = Settled(t);
  s.private_data =
      Pack(Lists{std::move(m.missing), std::move(m.differing), std::move(m.extra), versioned, false, true});
  return s;
}

Result<State> ApplySync(const Change& change) {
  const Target& t = change.target;
  if (change.action == Action::kDelete)
    return Error{"a sync cannot be made absent; take it out of the spec, or roll back to undo it"};
  auto c = ConfigFor(t);
  if (!c) return c.error();
  Client client(c->endpoint);
  // A rollback that carries the journaled lists undoes what the sync did; one without them (the
  // sync belongs to the stage rolled back to) syncs to what that stage wants.
  if (change.undo && ListsOf(t.desired, t.desired_private.str()).listed) return RollBack(client, *c, change);

  Lists prior = ListsOf(change.prior);
  if (!prior.listed) {
    auto probed = ProbeSync(t);
    if (!probed) return probed.error();
    prior = ListsOf(*probed);
  }
  if (prior.source_missing)
    return Error{"the source bucket " + c->source.bucket + " does not exist; create it (or fix the name) first"};
  std::vector<Entry> todo = std::move(prior.missing);
  std::size_t created = todo.size();
  for (Entry& e : prior.differing) todo.push_back(std::move(e));
  std::map<std::string, LocalFile> files;
  std::map<std::string, const LocalFile*> file_of;
  if (c->source.local) {
    auto listed = ListLocal(c->source.dir);
    if (!listed) return Error{listed.error().message};
    for (LocalFile& f : *listed) files.emplace(f.key, std::move(f));
    for (const Entry& e : todo) {
      auto it = files.find(e.key);
      if (it == files.end()) return Error{e.key + " left " + c->source.dir + " since the plan"};
      file_of[e.key] = &it->second;
    }
  }
  Failures failed;
  Meter copying(change, c->source.local ? "uploading" : "copying", todo.size(), SumSizes(todo, false));
  Transfer(client, *c, todo, file_of, copying, &failed);
  copying.Finish(c->source.local ? "uploaded" : "copied");
  std::size_t extra = 0;
  if (c->delete_extra) {
    std::vector<Entry>& extras = prior.extra;
    extra = extras.size();
    Meter deleting(change, "deleting", extras.size(), SumSizes(extras, true));
    Delete(client, *c, extras, deleting, &failed);
    deleting.Finish("deleted");
  }
  if (!failed.lines.empty())
    return Error{std::to_string(failed.lines.size()) + " of " + Objects(todo.size() + extra) + " failed (" +
                 std::to_string(created) + " were to be created):" + failed.Text() +
                 "\n  the rest were synced; apply again to retry what still differs, or roll back"};
  return Settled(t);
}

void ReviewSync(const State& prior, const State& desired, Diff* diff) {
  diff->changes.clear();
  diff->action = Action::kNone;
  diff->irreversible = false;
  diff->irreversible_reason.clear();
  if (!desired.exists) {
    diff->action = Action::kDelete;  // refused by Apply, with what to do instead
    return;
  }
  Lists now = ListsOf(prior);
  if (Lists wanted = ListsOf(desired); wanted.listed) {
    Undo u = PlanUndo(now, wanted);
    if (!u.remove.empty()) diff->changes.push_back(Summary("delete", u.remove, "the sync created"));
    if (!u.restore.empty())
      diff->changes.push_back(Summary("restore", u.restore, "back to their versions before the sync", true));
    if (!u.lost.empty()) {
      diff->changes.push_back(Summary("lost", u.lost, "overwritten or deleted with no earlier version", true));
      diff->irreversible = true;
      diff->irreversible_reason = Objects(u.lost.size()) +
                                  " the sync overwrote or deleted cannot be put back (the bucket keeps no "
                                  "versions)";
    }
    if (!u.changed_since.empty() && !diff->changes.empty())
      diff->changes.push_back(Summary("keep", u.changed_since, "created by the sync but changed since: left alone"));
    if (!diff->changes.empty()) diff->action = Action::kUpdate;
    return;
  }
  if (now.source_missing) {
    AttrChange c;
    c.name = "copy";
    c.set_summary("all of " + StringAttr(desired.attrs, "source") +
                  ": the bucket does not exist yet, so it is listed when the sync runs");
    diff->changes.push_back(std::move(c));
    diff->action = Action::kUpdate;
    return;
  }
  const std::vector<Entry>& missing = now.missing;
  const std::vector<Entry>& differing = now.differing;
  bool delete_extra = BoolAttr(desired.attrs, "delete_extra").value_or(false);
  std::vector<Entry> extra = delete_extra ? now.extra : std::vector<Entry>{};
  if (!missing.empty()) diff->changes.push_back(Summary("copy", missing, "not in the target"));
  if (!differing.empty()) diff->changes.push_back(Summary("replace", differing, "that differ from the source"));
  if (!extra.empty()) diff->changes.push_back(Summary("delete", extra, "not in the source", true));
  if (diff->changes.empty()) return;
  diff->action = Action::kUpdate;
  if (!now.versioned && (!differing.empty() || !extra.empty())) {
    diff->irreversible = true;
    diff->irreversible_reason = "overwrites " + Objects(differing.size()) + " and deletes " + Objects(extra.size()) +
                                " in a bucket that keeps no versions: their current content cannot be put back";
  }
}

}  // namespace reconcile::s3
