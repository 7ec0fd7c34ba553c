#include "providers/s3/s3_api.h"

#include <algorithm>

#include <pugixml.hpp>

namespace reconcile::s3 {

namespace {

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  // Some servers send the quotes escaped.
  if (s.rfind("&quot;", 0) == 0 && s.size() >= 12) s = s.substr(6, s.size() - 12);
  return s;
}

}  // namespace

std::string Failed(const std::string& what, const Response& r) {
  return what + ": " + r.Describe() + (r.attempts > 1 ? " (after " + std::to_string(r.attempts) + " tries)" : "");
}

Result<ListPage> ParseListPage(const std::string& xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return Error{"the listing is not XML"};
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return Error{"the listing has no ListBucketResult"};
  ListPage page;
  // Asked for, so that keys with characters XML cannot carry list at all; servers that do not
  // implement it (s3rver) answer without <EncodingType> and their keys are taken as they are.
  bool encoded = std::string(root.child_value("EncodingType")) == "url";
  for (pugi::xml_node c : root.children("Contents")) {
    Object o;
    o.key = encoded ? UriDecode(c.child_value("Key"), true) : c.child_value("Key");
    o.size = std::strtoull(c.child_value("Size"), nullptr, 10);
    o.etag = Unquote(c.child_value("ETag"));
    page.objects.push_back(std::move(o));
  }
  if (std::string(root.child_value("IsTruncated")) == "true") {
    page.next_token = root.child_value("NextContinuationToken");
    if (page.next_token.empty()) return Error{"the listing is truncated but gives no continuation token"};
  }
  return page;
}

Result<std::vector<Object>> ListObjects(Client& client, const std::string& bucket, const std::string& prefix,
                                        bool* missing_bucket) {
  std::vector<Object> all;
  std::string token;
  do {
    Request r;
    r.bucket = bucket;
    r.query = {{"list-type", "2"}, {"max-keys", "1000"}, {"encoding-type", "url"}};
    if (!prefix.empty()) r.query.emplace_back("prefix", prefix);
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    Response resp = client.Do(r);
    if (!resp.ok()) {
      if (resp.status == 404 && resp.ErrorCode() == "NoSuchBucket" && missing_bucket) {
        *missing_bucket = true;
        return std::vector<Object>{};
      }
      return Error{Failed("listing s3://" + bucket + "/" + prefix, resp)};
    }
    auto page = ParseListPage(resp.body);
    if (!page) return Error{"listing s3://" + bucket + "/" + prefix + ": " + page.error().message};
    for (Object& o : page->objects) all.push_back(std::move(o));
    token = page->next_token;
  } while (!token.empty());
  // S3 lists in UTF-8 byte order; merging relies on it, so make sure of it.
  if (!std::is_sorted(all.begin(), all.end(), [](const Object& a, const Object& b) { return a.key < b.key; }))
    std::sort(all.begin(), all.end(), [](const Object& a, const Object& b) { return a.key < b.key; });
  if (missing_bucket) *missing_bucket = false;
  return all;
}

std::string VersioningXml(bool enabled) {
  return std::string("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>") +
         (enabled ? "Enabled" : "Suspended") + "</Status></VersioningConfiguration>";
}

std::string EncryptionXml(const std::string& algorithm) {
  return "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
         "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>" +
         algorithm + "</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>";
}

std::string PublicAccessBlockXml(bool block) {
  std::string v = block ? "true" : "false";
  return "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
         "<BlockPublicAcls>" +
         v + "</BlockPublicAcls><IgnorePublicAcls>" + v + "</IgnorePublicAcls><BlockPublicPolicy>" + v +
         "</BlockPublicPolicy><RestrictPublicBuckets>" + v +
         "</RestrictPublicBuckets></PublicAccessBlockConfiguration>";
}

std::string ParseVersioning(const std::string& xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return "";
  // AWS answers <VersioningConfiguration>, moto <GetBucketVersioningResponse>: whatever the
  // root, its Status.
  return doc.document_element().child_value("Status");
}

std::string ParseEncryption(const std::string& xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return "";
  return doc.child("ServerSideEncryptionConfiguration")
      .child("Rule")
      .child("ApplyServerSideEncryptionByDefault")
      .child_value("SSEAlgorithm");
}

Result<bool> ParsePublicAccessBlock(const std::string& xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return Error{"the public access block answer is not XML"};
  pugi::xml_node c = doc.child("PublicAccessBlockConfiguration");
  if (!c) return Error{"the public access block answer has no PublicAccessBlockConfiguration"};
  for (const char* name : {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"})
    if (std::string(c.child_value(name)) != "true") return false;
  return true;
}

}  // namespace reconcile::s3
