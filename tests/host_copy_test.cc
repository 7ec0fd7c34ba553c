// host_copy's parts on this machine: the digest script's output read (and damage refused), the
// digest of real files and folders, and the pipe between two commands — whose target never
// sees the end of its input when the source failed.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "providers/copy/pipe.h"
#include "providers/copy/tree_digest.h"
#include "providers/ssh/local_shell.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

const std::string kSum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";  // sha256("test")

CommandResult Said(const std::string& out, int exit_code = 0) { return CommandResult{exit_code, out, ""}; }

}  // namespace

TEST_CASE("the digest script's lines parse; anything else is an error naming the place") {
  auto file = copy::ParseDigest(Said("F 640 4 " + kSum + "\n"), "web:/a");
  REQUIRE(file);
  CHECK(file->kind == copy::TreeDigest::Kind::kFile);
  CHECK(file->mode == "0640");
  CHECK(file->bytes == 4);
  CHECK(file->sha256 == kSum);
  auto folder = copy::ParseDigest(Said("D 750 3 12 " + kSum + "  -\n"), "web:/d");
  REQUIRE(folder);
  CHECK(folder->kind == copy::TreeDigest::Kind::kFolder);
  CHECK(folder->files == 3);
  CHECK(copy::ParseDigest(Said("A\n"), "web:/n")->kind == copy::TreeDigest::Kind::kAbsent);
  CHECK(copy::ParseDigest(Said("L\n"), "web:/l").error().message.find("symbolic link") != std::string::npos);
  // find's complaint where the checksum line should be: reported, not taken for a checksum.
  auto denied = copy::ParseDigest(Said("D 755 1 4 find: './x': Permission denied " + kSum + "  -\n"), "web:/d");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().message.find("Permission denied") != std::string::npos);
  CHECK_FALSE(copy::ParseDigest(Said("F 640 4 nothex\n"), "web:/a"));
  CHECK_FALSE(copy::ParseDigest(Said("", 3), "web:/a"));
}

TEST_CASE("digests of real files and folders: content and modes count, mtime does not") {
  TempDir dir;
  LocalShell shell;
  std::ofstream(dir.path / "f") << "test";
  fs::permissions(dir.path / "f", fs::perms(0640));
  auto f = copy::ReadDigest(shell, (dir.path / "f").string());
  REQUIRE(f);
  CHECK(f->sha256 == kSum);
  CHECK(f->mode == "0640");
  for (const char* side : {"a", "b"}) {
    fs::create_directories(dir.path / side / "sub");
    std::ofstream(dir.path / side / "sub" / "x") << "x";
    std::ofstream(dir.path / side / "y") << "y";
  }
  auto a = copy::ReadDigest(shell, (dir.path / "a").string());
  auto b = copy::ReadDigest(shell, (dir.path / "b").string());
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->kind == copy::TreeDigest::Kind::kFolder);
  CHECK(a->files == 2);
  CHECK(a->sha256 == b->sha256);
  fs::last_write_time(dir.path / "b" / "y", fs::file_time_type::clock::now() - std::chrono::hours(48));
  CHECK(copy::ReadDigest(shell, (dir.path / "b").string())->sha256 == a->sha256);
  fs::permissions(dir.path / "b" / "y", fs::perms(0600));
  CHECK(copy::ReadDigest(shell, (dir.path / "b").string())->sha256 != a->sha256);
  fs::permissions(dir.path / "b" / "y", fs::perms(0644));
  fs::permissions(dir.path / "a" / "y", fs::perms(0644));
  CHECK(copy::ReadDigest(shell, (dir.path / "b").string())->sha256 ==
        copy::ReadDigest(shell, (dir.path / "a").string())->sha256);
  std::ofstream(dir.path / "b" / "sub" / "x") << "changed";
  CHECK(copy::ReadDigest(shell, (dir.path / "b").string())->sha256 != a->sha256);
  CHECK(copy::ReadDigest(shell, (dir.path / "none").string())->kind == copy::TreeDigest::Kind::kAbsent);
}

TEST_CASE("a pipe carries every byte, and a failed source never ends the target's input") {
  TempDir dir;
  LocalShell from, to;
  const std::string out = (dir.path / "out").string();
  std::int64_t moved = 0;
  // 8 MiB: many more pieces than the pipe buffers at once.
  auto r = copy::Pipe(from, {"sh", "-c", "head -c 8388608 /dev/zero"}, to, {"sh", "-c", "cat > \"$0\"", out},
                      [&](std::int64_t n) { moved = n; });
  REQUIRE_MESSAGE(r, r.error().message);
  CHECK(r->to.exit_code == 0);
  CHECK(fs::file_size(out) == 8388608);
  CHECK(moved == 8388608);

  const std::string done = (dir.path / "done").string();
  auto failed = copy::Pipe(from, {"sh", "-c", "printf part; echo broken >&2; exit 3"}, to,
                           {"sh", "-c", "cat > /dev/null && touch \"$0\"", done}, nullptr);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message.find("exit 3") != std::string::npos);
  CHECK(failed.error().message.find("broken") != std::string::npos);
  CHECK_FALSE(fs::exists(done));
}

TEST_CASE("a local command's input arrives whole, streamed or given at once") {
  LocalShell shell;
  auto r = shell.Run({"sh", "-c", "IFS= read -r x; echo \"got $x\""}, "secret\n");
  REQUIRE(r);
  CHECK(r->out == "got secret\n");
  std::string big(1 << 20, 'z');
  auto all = shell.Run({"wc", "-c"}, big);
  REQUIRE(all);
  CHECK(all->out.find("1048576") != std::string::npos);
}
