#include "providers/s3/local_tree.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

namespace reconcile::s3 {

namespace fs = std::filesystem;

namespace {

std::string Hex(const unsigned char* d, unsigned int n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < n; ++i) {
    s += hex[d[i] >> 4];
    s += hex[d[i] & 15];
  }
  return s;
}

}  // namespace

Result<std::vector<LocalFile>> ListLocal(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Error{"the source directory " + dir + " does not exist (or is not a directory)"};
  std::vector<LocalFile> out;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return Error{"cannot read " + dir + ": " + ec.message()};
  for (; it != end; it.increment(ec)) {
    if (ec) return Error{"cannot read " + dir + ": " + ec.message()};
    if (!it->is_regular_file(ec)) continue;
    LocalFile f;
    f.path = it->path().string();
    f.key = it->path().lexically_relative(dir).generic_string();
    f.size = it->file_size(ec);
    if (ec) return Error{"cannot read " + f.path + ": " + ec.message()};
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const LocalFile& a, const LocalFile& b) { return a.key < b.key; });
  return out;
}

Result<std::string> LocalEtag(const std::string& path, std::uint64_t part_size, bool multipart) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> whole(EVP_MD_CTX_new(), EVP_MD_CTX_free),
      part(EVP_MD_CTX_new(), EVP_MD_CTX_free), parts(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(whole.get(), EVP_md5(), nullptr);
  EVP_DigestInit_ex(part.get(), EVP_md5(), nullptr);
  EVP_DigestInit_ex(parts.get(), EVP_md5(), nullptr);
  std::vector<char> buf(1 << 20);
  std::uint64_t in_part = 0, count = 0;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  auto end_part = [&] {
    EVP_DigestFinal_ex(part.get(), md, &n);
    EVP_DigestUpdate(parts.get(), md, n);
    EVP_DigestInit_ex(part.get(), EVP_md5(), nullptr);
    in_part = 0;
    ++count;
  };
  while (in) {
    std::uint64_t want = buf.size();
    if (multipart) want = std::min<std::uint64_t>(want, part_size - in_part);
    in.read(buf.data(), static_cast<std::streamsize>(want));
    std::streamsize got = in.gcount();
    if (got <= 0) break;
    EVP_DigestUpdate(whole.get(), buf.data(), got);
    if (multipart) {
      EVP_DigestUpdate(part.get(), buf.data(), got);
      in_part += got;
      if (in_part == part_size) end_part();
    }
  }
  if (!multipart) {
    EVP_DigestFinal_ex(whole.get(), md, &n);
    return Hex(md, n);
  }
  if (in_part > 0 || count == 0) end_part();
  EVP_DigestFinal_ex(parts.get(), md, &n);
  return Hex(md, n) + "-" + std::to_string(count);
}

bool LocalMatches(const LocalFile& file, const std::string& etag, std::uint64_t part_size) {
  auto dash = etag.find('-');
  if (dash == std::string::npos) {
    auto md5 = LocalEtag(file.path, 0, false);
    return md5 && *md5 == etag;
  }
  std::uint64_t parts = std::strtoull(etag.c_str() + dash + 1, nullptr, 10);
  if (parts == 0) return false;
  // Ours, then what the count implies rounded up to a MiB (what most uploaders choose).
  std::vector<std::uint64_t> sizes = {part_size};
  const std::uint64_t mib = 1 << 20;
  std::uint64_t implied = (file.size + parts - 1) / parts;
  sizes.push_back((implied + mib - 1) / mib * mib);
  for (std::uint64_t size : sizes) {
    if (size == 0 || (file.size + size - 1) / size != parts) continue;
    auto e = LocalEtag(file.path, size, true);
    if (e && *e == etag) return true;
  }
  return false;
}

}  // namespace reconcile::s3
