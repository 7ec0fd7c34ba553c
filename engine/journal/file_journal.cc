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
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine/hash.h"
#include "engine/journal/checkpoint.h"
#include "engine/journal/codec.h"
#include "engine/journal/history.h"
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
  if (int err = WriteWhole(fd, s); err != 0) return Error{"cannot write the journal: " + ErrnoText(err)};
  return Status::Ok();
}

class FileJournal : public Journal {
 public:
  explicit FileJournal(std::string path)
      : path_(std::move(path)),
        lock_path_(path_ + ".lock"),
        checkpoint_path_(path_ + ".checkpoint") {}
  ~FileJournal() override { Close(); }

  void Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    Unlock();
  }

  std::string Describe() const override { return path_; }

  Status Lock(const LockInfo& me, std::chrono::milliseconds timeout) override {
    if (Status s = MakeDir(); !s) return s;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool tried_again = false;
    while (true) {
      // 0600: the holder's details name a user, host and pid, nobody else's business.
      // Never through a link: in a folder others write to, one planted under the lock's name
      // would have had the file it names emptied and written.
      int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && errno == ELOOP)
        return Error{"the lock file " + lock_path_ +
                     " is a symbolic link, which reconcile will not write through; remove it (rm " + lock_path_ +
                     ") and run again"};
      if (fd < 0) return Error{Errno("cannot open the lock file " + lock_path_)};
      if (Status own = OwnLockFile(fd); !own) {
        ::close(fd);
        return own;
      }
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        // The file may have been force-unlocked (removed) between open and flock.
        struct stat a, b;
        if (::fstat(fd, &a) == 0 && ::stat(lock_path_.c_str(), &b) == 0 && a.st_ino == b.st_ino) {
          // A lock file left by an older version, readable by all: tightened when taken.
          if ((a.st_mode & 0077) != 0 && a.st_uid == ::geteuid()) ::fchmod(fd, 0600);
          // Not synced: the flock is the lock, and the text only names its holder to a second
          // operator; a crash of the machine, all a sync guards against, ends the flock too.
          std::string text = me.ToJson().dump() + "\n";
          if (::ftruncate(fd, 0) != 0 || !WriteAll(fd, text)) {
            ::close(fd);
            return Error{Errno("cannot write the lock file " + lock_path_)};
          }
          lock_fd_ = fd;
          // A checkpoint a killed run was writing: only a lock holder writes one.
          ::unlink((checkpoint_path_ + ".tmp").c_str());
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
    {
      std::lock_guard<std::mutex> guard(mu_);
      SaveCheckpointLocked();
    }
    // Empty the holder first: a reader that sees the file but no holder knows it is free.
    (void)::ftruncate(lock_fd_, 0);
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
    int fd = ::open(lock_path_.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? Status::Ok() : Status(Error{Errno("cannot open " + lock_path_)});
    if (Status own = OwnLockFile(fd); !own) {
      ::close(fd);
      return own;
    }
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
    fold_.reset();
    last_seq_ = records.empty() ? 0 : records.back().seq;
    return Status::Ok();
  }

  Result<History> Summary() override {
    std::lock_guard<std::mutex> guard(mu_);
    if (Status s = FoldLocked(); !s) return s.error();
    return fold_->Result();
  }
  Result<std::shared_ptr<const History>> SharedSummary() override {
    std::lock_guard<std::mutex> guard(mu_);
    if (Status s = FoldLocked(); !s) return s.error();
    return fold_->Shared();
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
    // The records' states go into the summary, not copied, unless the records themselves
    // go into the cache of records read below.
    const bool cached = cache_ && before == cache_size_;
    if (fold_ && before == fold_size_) {
      std::size_t at = 0;
      for (std::size_t i = 0; i < n; ++i) {
        // A record of the wrong shape is refused by the next read; the summary is made there.
        if (!RecordShapeError(records[i]).empty()) {
          fold_.reset();
          break;
        }
        if (cached) fold_->Add(records[i]);
        else fold_->Add(std::move(records[i]));
        if (i + 1 == n) {
          fold_last_line_ = before + static_cast<off_t>(at);
          fold_last_text_ = text.substr(at);
        }
        at = text.find('\n', at) + 1;
      }
      if (fold_) fold_size_ += static_cast<off_t>(text.size());
    } else {
      fold_.reset();
    }
    if (cached) {
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
    fold_.reset();
    if (size < 0 || ::ftruncate(fd_, size) != 0 || ::lseek(fd_, size, SEEK_SET) != size) {
      ::close(fd_);
      fd_ = -1;
    } else {
      ::fdatasync(fd_);
    }
    return why;
  }

  // The lock file opened (never through a link) is a plain file of its own: not a second name
  // of another file (a hard link), which taking or clearing the lock would empty and write.
  Status OwnLockFile(int fd) const {
    struct stat own {};
    if (::fstat(fd, &own) == 0 && S_ISREG(own.st_mode) && own.st_nlink <= 1) return Status::Ok();
    return Error{"the lock file " + lock_path_ + " is not a file of its own (" +
                 (S_ISREG(own.st_mode) ? "another name of a file" : "not a plain file") + "); remove it (rm " +
                 lock_path_ + ") and run again"};
  }

  // Whether some process (this one included) holds the flock on the lock file now.
  bool HeldByAnyone() {
    if (lock_fd_ >= 0) return true;
    int fd = ::open(lock_path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
    ::close(fd);  // drops our shared lock, if we got it
    return held;
  }

  // The holder's details as written in the lock file; an unreadable file gives an unknown holder.
  // Never through a link, nor waiting on a FIFO put in its place.
  LockInfo WrittenHolder() {
    std::string text;
    int fd = ::open(lock_path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) text.assign(buf, static_cast<std::size_t>(n));
    }
    if (fd >= 0) ::close(fd);
    return LockInfo::FromJson(nlohmann::json::parse(text.substr(0, text.find('\n')), nullptr, false));
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

  // Every record, from the whole file; `*whole`: the file's size when it ends with a whole
  // line (what a cache of it is good for).
  Result<std::vector<JournalRecord>> ParseLocked(off_t* whole) {
    cache_.reset();
    std::vector<JournalRecord> out;
    std::string text;
    if (int err = ReadWholeFile(path_, SIZE_MAX, &text); err != 0) {
      if (err == ENOENT) return out;
      return Error{"cannot read the journal " + path_ + ": " + ErrnoText(err)};
    }
    std::uint64_t seq = 0;
    off_t end = 0;
    Status parsed = ParseLines(text, 0, &seq, &end, nullptr, [&](JournalRecord&& r) { out.push_back(std::move(r)); });
    if (!parsed) return parsed.error();
    if (!text.empty() && end == static_cast<off_t>(text.size())) *whole = end;
    return out;
  }

  // The records in `text`, which is the file from byte `base` on (0: the header first), each
  // given to `each`. `*seq` is the last record's before them, and after them; `*end` where
  // the whole lines end (a last line with no newline is torn: a crash cut its write, and it
  // was never durable), `*last_line` where the last of them starts.
  Status ParseLines(const std::string& text, off_t base, std::uint64_t* seq, off_t* end, off_t* last_line,
                    const std::function<void(JournalRecord&&)>& each) {
    std::size_t pos = 0;
    *end = base;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      bool torn = nl == std::string::npos;
      std::string line = text.substr(pos, torn ? std::string::npos : nl - pos);
      // Record k is line k + 1, after the header.
      std::uint64_t line_no = base == 0 && pos == 0 ? 1 : *seq + 2;
      auto damaged = [&](const std::string& why) -> Error {
        return Error{"the journal " + path_ + " is damaged at line " + std::to_string(line_no) + ": " + why +
                     ". reconcile will not guess at what happened; inspect the file (one JSON record a line), "
                     "or move it aside to start a new journal (rollback of past stages is then lost)"};
      };
      if (line_no == 1) {
        bool is_header = false;
        Status format = CheckHeader(line, path_, &is_header);
        if (!is_header) {
          if (torn) return Status::Ok();  // a crash while writing the header: nothing was recorded yet
          return damaged("the first line is not a journal header such as " + JournalHeader());
        }
        if (!format) return format.message().empty() ? damaged("its header names no journal format") : format.error();
      } else {
        // A line with no newline was cut by a crash mid-write, before it was durable.
        if (torn) break;
        bool intact = false;
        auto decoded = DecodeLine(line, &intact);
        if (!decoded) return damaged(decoded.error().message);
        JournalRecord& r = *decoded;
        if (r.seq != *seq + 1)
          return damaged("sequence number " + std::to_string(r.seq) + " follows " + std::to_string(*seq));
        *seq = r.seq;
        each(std::move(r));
      }
      if (torn) break;
      if (last_line) *last_line = base + static_cast<off_t>(pos);
      pos = nl + 1;
      *end = base + static_cast<off_t>(pos);
    }
    return Status::Ok();
  }

  // Brings the summary up to the file's end: from the checkpoint when it matches the file,
  // else from the start, then each record after it.
  Status FoldLocked() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      if (errno != ENOENT) return Error{Errno("cannot read the journal " + path_)};
      fold_ = HistoryFold{};
      fold_size_ = fold_last_line_ = 0;
      return Status::Ok();
    }
    if (fold_ && st.st_size == fold_size_) return Status::Ok();
    // Grown by another run since (this one waited for the lock): only on top of the lines
    // summed up here, which a run that took back a failed write may have cut.
    if (fold_ && (st.st_size < fold_size_ || !LastLineStillThere())) fold_.reset();
    if (!fold_) {
      if (auto c = MatchingCheckpoint(st.st_size, &fold_last_text_)) {
        fold_ = std::move(c->fold);
        fold_size_ = checkpoint_size_ = c->size;
        fold_last_line_ = c->last_line;
      } else {
        fold_ = HistoryFold{};
        fold_size_ = fold_last_line_ = 0;
        fold_last_text_.clear();
      }
    }
    std::string text;
    if (Status s = ReadFrom(fold_size_, &text); !s) {
      fold_.reset();
      return s;
    }
    std::uint64_t seq = fold_->last_seq();
    const off_t base = fold_size_;
    Status parsed =
        ParseLines(text, base, &seq, &fold_size_, &fold_last_line_, [&](JournalRecord&& r) { fold_->Add(r); });
    if (!parsed) {
      fold_.reset();
      return parsed;
    }
    if (fold_size_ > base)
      fold_last_text_ = text.substr(static_cast<std::size_t>(fold_last_line_ - base),
                                    static_cast<std::size_t>(fold_size_ - fold_last_line_));
    return parsed;
  }

  Status ReadFrom(off_t offset, std::string* text) {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? Status::Ok() : Status(Error{Errno("cannot read the journal " + path_)});
    struct stat st {};
    bool read = ::fstat(fd, &st) == 0;
    if (read && st.st_size > offset) {
      *text = Slice(fd, offset, st.st_size);
      read = !text->empty();
    }
    ::close(fd);
    return read ? Status::Ok() : Status(Error{Errno("cannot read the journal " + path_)});
  }

  // The bytes [from, to) of the journal's `fd`, "" when they cannot all be read.
  static std::string Slice(int fd, off_t from, off_t to) {
    std::string out(static_cast<std::size_t>(to - from), '\0');
    std::size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::pread(fd, out.data() + got, out.size() - got, from + static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return "";
      got += static_cast<std::size_t>(n);
    }
    return out;
  }

  // What ties a checkpoint to the journal's first `size` bytes: the SHA-256 of their head and
  // the last line (which starts at `last_line`), given back as text. False when unreadable.
  bool PrefixMarks(off_t size, off_t last_line, std::string* head_sha256, std::string* last) {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::string head = Slice(fd, 0, std::min(size, kCheckpointHead));
    *last = Slice(fd, last_line, size);
    ::close(fd);
    if (head.empty() || last->empty() || last->back() != '\n') return false;
    *head_sha256 = Sha256Hex(head);
    return true;
  }

  bool LastLineStillThere() {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    std::string now = Slice(fd, fold_last_line_, fold_size_);
    ::close(fd);
    return !now.empty() && now == fold_last_text_;
  }

  std::optional<Checkpoint> MatchingCheckpoint(off_t file_size, std::string* last_text) {
    // Read only when it is a plain file of a size a summary of this journal can have: a
    // FIFO left at its name would block every command, /dev/zero would fill the memory.
    int cfd = ::open(checkpoint_path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (cfd < 0) return std::nullopt;
    struct stat st {};
    std::string text;
    if (::fstat(cfd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= 2 * file_size + (1 << 20))
      text = Slice(cfd, 0, st.st_size);
    ::close(cfd);
    // The checkpoint beside the journal, when it sums up a beginning of this very file: its
    // head and its last line are the file's, byte for byte.
    auto c = ParseCheckpoint(text);
    if (!c || c->size > file_size) return std::nullopt;
    std::string head_sha256, last;
    if (!PrefixMarks(c->size, c->last_line, &head_sha256, &last) || head_sha256 != c->head_sha256 ||
        Sha256Hex(last) != c->last_sha256)
      return std::nullopt;
    *last_text = std::move(last);
    return c;
  }

  // Sums up the journal so far for the next command, once enough was written since the last
  // checkpoint. Only a run holding the lock writes it, so no other run appends meanwhile; a
  // checkpoint that cannot be written is left to the next run (nothing depends on it).
  void SaveCheckpointLocked() {
    if (!fold_ || fold_size_ - checkpoint_size_ < kCheckpointEvery) return;
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0 || st.st_size != fold_size_) return;
    Checkpoint c;
    c.size = fold_size_;
    c.last_line = fold_last_line_;
    std::string last;
    if (!PrefixMarks(c.size, c.last_line, &c.head_sha256, &last)) return;
    c.last_sha256 = Sha256Hex(last);
    // Beside it, then renamed over the old one: a reader sees one whole checkpoint or the
    // other. Not synced: a torn one after a power cut fails its own checksum and is not read.
    std::string tmp = checkpoint_path_ + ".tmp";
    int out = CreateNewFile(tmp, 0600);
    if (out < 0) return;
    std::string text;
    try {
      text = CheckpointText(c, *fold_);
    } catch (const nlohmann::json::exception&) {  // a value JSON cannot hold: read the journal instead
      ::close(out);
      ::unlink(tmp.c_str());
      return;
    }
    Status wrote = WriteAll(out, text);
    ::close(out);
    if (!wrote || ::rename(tmp.c_str(), checkpoint_path_.c_str()) != 0) {
      ::unlink(tmp.c_str());
      return;
    }
    checkpoint_size_ = c.size;
  }

  Status OpenForAppend() {
    if (Status s = MakeDir(); !s) return s;
    if (Status s = FoldLocked(); !s) return s;
    last_seq_ = fold_->last_seq();
    bool fresh = !std::filesystem::exists(path_);
    fd_ = OpenThroughOwnLink(path_, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 && errno == EPERM && IsPlanted(path_))
      return Error{"the journal " + path_ +
                   " is a symbolic link another user made in a folder anyone may write to; reconcile will not write "
                   "through it: remove it, or keep the journal in a folder only you can write to ([state] path)"};
    if (fd_ < 0) return Error{Errno("cannot open the journal " + path_)};
    // Cut a torn last line so the next record starts on a line of its own.
    off_t keep = fold_size_;
    if (::lseek(fd_, 0, SEEK_END) != keep) {
      if (::ftruncate(fd_, keep) != 0) return Error{Errno("cannot repair " + path_)};
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
      fold_size_ = static_cast<off_t>(JournalHeader().size() + 1);
      fold_last_line_ = 0;
      fold_last_text_ = JournalHeader() + "\n";
    }
    if (fresh) return FsyncDir(path_);
    return Status::Ok();
  }

  std::string path_;
  std::string lock_path_;
  std::string checkpoint_path_;
  int fd_ = -1;
  int lock_fd_ = -1;
  std::uint64_t last_seq_ = 0;
  std::shared_ptr<std::vector<JournalRecord>> cache_;
  off_t cache_size_ = -1;
  // The summary of the file's first fold_size_ bytes; fold_last_line_ is where the last of
  // their lines starts. checkpoint_size_: what the checkpoint on disk sums up.
  std::optional<HistoryFold> fold_;
  off_t fold_size_ = 0;
  off_t fold_last_line_ = 0;
  std::string fold_last_text_;  // that line, newline included
  off_t checkpoint_size_ = 0;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Journal> OpenFileJournal(const std::string& path) { return std::make_unique<FileJournal>(path); }

}  // namespace reconcile
