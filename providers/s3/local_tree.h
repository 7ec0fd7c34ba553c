// A local directory as an s3_sync source: its regular files by relative key (with '/'), in
// key order, and the ETag S3 would give each.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"

namespace reconcile::s3 {

struct LocalFile {
  std::string key;   // relative, '/'-separated
  std::string path;  // to open
  std::uint64_t size = 0;
};

Result<std::vector<LocalFile>> ListLocal(const std::string& dir);

// Whether the file is what an object of this ETag holds: a plain MD5, or a multipart ETag
// ("…-N") of parts of part_size or of the size that N parts imply.
bool LocalMatches(const LocalFile& file, const std::string& etag, std::uint64_t part_size);

// The ETag S3 gives the file uploaded in one piece (its MD5) or in parts of part_size.
Result<std::string> LocalEtag(const std::string& path, std::uint64_t part_size, bool multipart);

}  // namespace reconcile::s3
