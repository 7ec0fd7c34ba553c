// The default journal backend: a local file under .reconcile/ and a lock file beside it.
// The lock is an flock(2) on the lock file — released by the kernel when its holder dies, so
// a SIGKILLed apply never leaves a stale lock — plus the holder's details written inside.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine/hash.h"
#include "engine/journal/codec.h"
#include "engine/journal/journal.h"
#include "engine/os_calls.h"

namespace reconcile {

namespace {

std::string Errno(const std::string& what) { return what + ": " + ErrnoText(errno); }

Status FsyncDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error{Errno("cannot open " + dir)};
  ::fsync(fd);
  ::close(fd);
  return Status::Ok();
}

Status WriteAll(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{Errno("cannot write the journal")};
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

class FileJournal : public Journal {
 public:
  explicit FileJournal(std::string path) : path_(std::move(path)), lock_path_(path_ + ".lock") {}
  ~FileJournal() override {
    if (fd_ >= 0) ::close(fd_);
    Unlock();
  }

  std::string Describe() const override { return path_; }

  Status Lock(const LockInfo& me, std::chrono::milliseconds timeout) override {
    if (Status s = MakeDir(); !s) return s;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool tried_again = false;
    while (true) {
      // 0600: the holder's details name a user, host and pid, nobody else's business.
      int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) return Error{Errno("cannot open the lock file " + lock_path_)};
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        // The file may have been force-unlocked (removed) between open and flock.
        struct stat a, b;
        if (::fstat(fd, &a) == 0 && ::stat(lock_path_.c_str(), &b) == 0 && a.st_ino == b.st_ino) {
          // A lock file left by an older version, readable by all: tightened when taken.
          if ((a.st_mode & 0077) != 0 && a.st_uid == ::geteuid()) ::fchmod(fd, 0600);
          std::string text = me.ToJson().dump() + "\n";
          if (::ftruncate(fd, 0) != 0 || !WriteAll(fd, text) || ::fsync(fd) != 0) {
            ::close(fd);
            return Error{Errno("cannot write the lock file " + lock_path_)};
          }
          lock_fd_ = fd;
          return Status::Ok();
        }
        ::close(fd);
        continue;
      }
      ::close(fd);
      if (std::chrono::steady_clock::now() >= deadline) {
        // An flock is only ever held by a live process (the kernel drops it with its
        // holder), so the one who has it is running: the refusal says wait, never force.
        auto holder = Holder();
        // Released just now (or, in PostgreSQL, taken and not yet named): one more try.
        if (holder.ok() && !*holder && !tried_again) {
          tried_again = true;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        return Error{LockRefusal(path_, holder.ok() ? *holder : std::optional<LockInfo>()), ErrorCode::kRefused};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  void Unlock() override {
    if (lock_fd_ < 0) return;
    // Empty the holder first: a reader that sees the file but no holder knows it is free.
    if (::ftruncate(lock_fd_, 0) == 0) ::fsync(lock_fd_);
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
    lock_fd_ = -1;
  }

  Result<std::optional<LockInfo>> Holder() override {
    if (!HeldByAnyone()) return std::optional<LockInfo>();
    return std::optional<LockInfo>(WrittenHolder());
  }

  Status ForceUnlock(const std::string& id, bool from_live_holder) override {
    bool held = HeldByAnyone();
    LockInfo written = WrittenHolder();
    if (!held && written.id.empty()) return Error{"the journal " + path_ + " is not locked"};
    if (written.id != id)
      return Error{"the lock on " + path_ + " has id " + (written.id.empty() ? "(unknown)" : written.id) + ", not " +
                   id + "; nothing was changed"};
    if (held && !from_live_holder)
      return Error{"the lock on " + path_ + " is held by " + written.Describe() +
                   ", which is still running (the kernel releases its lock the moment it ends); nothing was "
                   "changed.\n  Wait for it to finish, or stop that process. Taking the lock from a live run "
                   "lets two runs write the journal at once; if that is really meant, pass --force"};
    if (held) {
      // Removed from under its live holder: the next run makes a new lock file, and a run
      // that opened the old one sees it is gone once it has the flock.
      if (::unlink(lock_path_.c_str()) != 0 && errno != ENOENT) return Error{Errno("cannot remove " + lock_path_)};
      return Status::Ok();
    }
    // Not held: its holder ended and the kernel already let go; the file only still names it.
    // Cleared under the flock, never removed, so a run taking the lock meanwhile keeps it.
    int fd = ::open(lock_path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? Status::Ok() : Status(Error{Errno("cannot open " + lock_path_)});
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Error{"the lock on " + path_ + " was just taken by another run; nothing was changed"};
    }
    if (::ftruncate(fd, 0) == 0) ::fsync(fd);
    ::close(fd);
    return Status::Ok();
  }

  Result<std::vector<JournalRecord>> Read() override {
    std::lock_guard<std::mutex> guard(mu_);
    auto shared = ReadLocked();
    if (!shared) return shared.error();
    return **shared;
  }

  Result<std::shared_ptr<const std::vector<JournalRecord>>> ReadShared() override {
    std::lock_guard<std::mutex> guard(mu_);
    return ReadLocked();
  }

  Status Import(const std::vector<JournalRecord>& records) override {
    std::lock_guard<std::mutex> guard(mu_);
    if (fd_ < 0) {
      if (Status s = OpenForAppend(); !s) return s;
    }
    if (last_seq_ != 0)
      return Error{"the journal " + path_ + " already holds " + std::to_string(last_seq_) +
                   " records; nothing was copied (a journal is moved into an empty one)"};
    std::string text;
    for (const JournalRecord& r : records) text += EncodeLine(r) + "\n";
    off_t before = ::lseek(fd_, 0, SEEK_CUR);
    Status wrote = WriteAll(fd_, text);
    if (wrote && ::fdatasync(fd_) != 0) wrote = Error{Errno("cannot sync the journal " + path_)};
    if (!wrote) return TakeBack(before, wrote);
    cache_.reset();
    last_seq_ = records.empty() ? 0 : records.back().seq;
    return Status::Ok();
  }

  Status Append(JournalRecord* r) override { return AppendSpan(r, 1); }
  Status AppendAll(std::vector<JournalRecord>* records) override {
    return AppendSpan(records->data(), records->size());
  }

 private:
  Status AppendSpan(JournalRecord* records, std::size_t n) {
    if (n == 0) return Status::Ok();
    std::lock_guard<std::mutex> guard(mu_);
    if (fd_ < 0) {
      if (Status s = OpenForAppend(); !s) return s;
    }
    std::string text;
    std::uint64_t first = last_seq_ + 1;
    for (std::size_t i = 0; i < n; ++i) {
      JournalRecord* r = &records[i];
      r->seq = ++last_seq_;
      r->at = NowUtcMillis();
      text += EncodeLine(*r) + "\n";
    }
    // One sequential write: a crash leaves whole lines and at most one torn last line, which
    // Read drops. A write that fails (a full disk) is taken back whole, so the next record
    // never lands on a fragment and its number follows the last one written.
    off_t before = ::lseek(fd_, 0, SEEK_CUR);
    Status wrote = WriteAll(fd_, text);
    if (wrote && ::fdatasync(fd_) != 0) wrote = Error{Errno("cannot sync the journal " + path_)};
    if (!wrote) {
      last_seq_ = first - 1;
      return TakeBack(before, wrote);
    }
    if (cache_ && before == cache_size_) {
      // Records handed out by ReadShared are never changed under their reader.
      if (cache_.use_count() > 1) cache_ = std::make_shared<std::vector<JournalRecord>>(*cache_);
      cache_->insert(cache_->end(), records, records + n);
      cache_size_ += static_cast<off_t>(text.size());
    } else {
      cache_.reset();
    }
    return Status::Ok();
  }

  // Cuts the file back to `size` after a write that failed part way, and returns `why`. When
  // even that fails the file is closed: the next append reopens it and cuts the torn tail
  // then, from what is on disk.
  Status TakeBack(off_t size, const Status& why) {
    cache_.reset();
    if (size < 0 || ::ftruncate(fd_, size) != 0 || ::lseek(fd_, size, SEEK_SET) != size) {
      ::close(fd_);
      fd_ = -1;
    } else {
      ::fdatasync(fd_);
    }
    return why;
  }

  // Whether some process (this one included) holds the flock on the lock file now.
  bool HeldByAnyone() {
    if (lock_fd_ >= 0) return true;
    int fd = ::open(lock_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
    ::close(fd);  // drops our shared lock, if we got it
    return held;
  }

  // The holder's details as written in the lock file; an unreadable file gives an unknown holder.
  LockInfo WrittenHolder() {
    std::ifstream in(lock_path_);
    std::string line;
    std::getline(in, line);
    return LockInfo::FromJson(nlohmann::json::parse(line, nullptr, false));
  }

  Status MakeDir() {
    std::error_code ec;
    std::string dir = std::filesystem::path(path_).parent_path().string();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) return Error{"cannot create the journal folder " + dir + ": " + ec.message()};
    return Status::Ok();
  }

  // A run reads the journal several times (session, history, append) and only this process
  // appends while it holds the lock: records already checked are kept while the file's size
  // says nothing else was written.
  // What the file holds, kept for the next read when it ends with a whole line.
  Result<std::shared_ptr<const std::vector<JournalRecord>>> ReadLocked() {
    struct stat st {};
    if (cache_ && ::stat(path_.c_str(), &st) == 0 && st.st_size == cache_size_)
      return std::shared_ptr<const std::vector<JournalRecord>>(cache_);
    off_t size = -1;
    auto records = ParseLocked(&size);
    if (!records) return records.error();
    auto shared = std::make_shared<std::vector<JournalRecord>>(std::move(*records));
    if (size >= 0) {
      cache_ = shared;
      cache_size_ = size;
    }
    return std::shared_ptr<const std::vector<JournalRecord>>(shared);
  }

  // `*whole`: the file's size when it ends with a whole line (what a cache of it is good for).
  Result<std::vector<JournalRecord>> ParseLocked(off_t* whole) {
    cache_.reset();
    std::vector<JournalRecord> out;
    std::string text;
    if (int err = ReadWholeFile(path_, SIZE_MAX, &text); err != 0) {
      if (err == ENOENT) return out;
      return Error{"cannot read the journal " + path_ + ": " + ErrnoText(err)};
    }
    if (text.empty()) return out;
    std::size_t pos = 0, line_no = 0;
    std::uint64_t seq = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      bool last = nl == std::string::npos || nl + 1 == text.size();
      bool torn = nl == std::string::npos;
      std::string line = text.substr(pos, torn ? std::string::npos : nl - pos);
      pos = torn ? text.size() : nl + 1;
      ++line_no;
      auto damaged = [&](const std::string& why) -> Error {
        return Error{"the journal " + path_ + " is damaged at line " + std::to_string(line_no) + ": " + why +
                     ". reconcile will not guess at what happened; inspect the file (one JSON record a line), "
                     "or move it aside to start a new journal (rollback of past stages is then lost)"};
      };
      if (line_no == 1) {
        bool is_header = false;
        Status format = CheckHeader(line, path_, &is_header);
        if (!is_header) {
          if (torn) return out;  // a crash while writing the header: nothing was recorded yet
          return damaged("the first line is not a journal header such as " + JournalHeader());
        }
        if (!format) return format.message().empty() ? damaged("its header names no journal format") : format.error();
        continue;
      }
      bool intact = false;
      auto decoded = DecodeLine(line, &intact);
      if (!decoded) {
        if (!intact && last && torn) break;  // torn by a crash mid-write
        return damaged(decoded.error().message);
      }
      JournalRecord& r = *decoded;
      if (r.seq != seq + 1)
        return damaged("sequence number " + std::to_string(r.seq) + " follows " + std::to_string(seq));
      seq = r.seq;
      out.push_back(std::move(r));
    }
    if (text.back() == '\n') *whole = static_cast<off_t>(text.size());
    return out;
  }

  Status OpenForAppend() {
    if (Status s = MakeDir(); !s) return s;
    auto records = ReadLocked();
    if (!records) return Error{records.error().message};
    last_seq_ = (*records)->empty() ? 0 : (*records)->back().seq;
    bool fresh = !std::filesystem::exists(path_);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return Error{Errno("cannot open the journal " + path_)};
    // Cut a torn last line so the next record starts on a line of its own.
    off_t size = ::lseek(fd_, 0, SEEK_END);
    std::string text(static_cast<std::size_t>(size), '\0');
    if (size > 0 && ::pread(fd_, text.data(), text.size(), 0) != size) return Error{Errno("cannot read " + path_)};
    std::size_t keep = text.rfind('\n');
    keep = keep == std::string::npos ? 0 : keep + 1;
    if (keep != text.size()) {
      if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0) return Error{Errno("cannot repair " + path_)};
    }
    ::lseek(fd_, 0, SEEK_END);
    if (keep == 0) {
      Status wrote = WriteAll(fd_, JournalHeader() + "\n");
      if (wrote && ::fsync(fd_) != 0) wrote = Error{Errno("cannot sync " + path_)};
      if (!wrote) {
        (void)TakeBack(0, wrote);  // `wrote` is what to say
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        return wrote;
      }
    }
    if (fresh) return FsyncDir(path_);
    return Status::Ok();
  }

  std::string path_;
  std::string lock_path_;
  int fd_ = -1;
  int lock_fd_ = -1;
  std::uint64_t last_seq_ = 0;
  std::shared_ptr<std::vector<JournalRecord>> cache_;
  off_t cache_size_ = -1;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Journal> OpenFileJournal(const std::string& path) { return std::make_unique<FileJournal>(path); }

}  // namespace reconcile
