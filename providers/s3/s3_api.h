// The S3 operations reconcile uses, as requests for s3_client.h and parsers of their XML.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"
#include "providers/s3/s3_client.h"

namespace reconcile::s3 {

struct Object {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // without quotes; "<md5>" or "<md5 of part md5s>-<parts>"
};

// Every object under prefix, in key order (paged ListObjectsV2). A missing bucket is an
// error whose message names it; `missing_bucket` (if given) is set instead and the list is
// empty.
Result<std::vector<Object>> ListObjects(Client& client, const std::string& bucket, const std::string& prefix,
                                        bool* missing_bucket = nullptr);

// The parsed page of a ListObjectsV2 answer; exposed for tests.
struct ListPage {
  std::vector<Object> objects;
  std::string next_token;  // "" when this was the last page
};
Result<ListPage> ParseListPage(const std::string& xml);

// "s3rver at http://… answered 501 NotImplemented" style errors need the request named.
std::string Failed(const std::string& what, const Response& r);

// Bucket-level configuration as XML bodies, and back.
std::string VersioningXml(bool enabled);
std::string EncryptionXml(const std::string& algorithm);  // "AES256" or "aws:kms"
std::string PublicAccessBlockXml(bool block);
// From the answers: "" when the answer holds no such setting.
std::string ParseVersioning(const std::string& xml);          // "Enabled", "Suspended" or "" (never set)
std::string ParseEncryption(const std::string& xml);          // SSEAlgorithm or ""
Result<bool> ParsePublicAccessBlock(const std::string& xml);  // all four set

}  // namespace reconcile::s3
