#include "providers/copy/pipe.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace reconcile::copy {

namespace {

constexpr std::size_t kMaxBuffered = 4 << 20;  // a few hundred SSH pieces; enough to keep both ends busy

class Pieces {
 public:
  Status Push(std::string_view piece) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return buffered_ < kMaxBuffered || !abort_.empty(); });
    if (!abort_.empty()) return Error{abort_};
    buffered_ += piece.size();
    pieces_.emplace_back(piece);
    cv_.notify_all();
    return Status::Ok();
  }
  Result<std::string> Pop() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !pieces_.empty() || ended_ || !abort_.empty(); });
    if (!abort_.empty()) return Error{abort_};
    if (pieces_.empty()) return std::string();
    std::string piece = std::move(pieces_.front());
    pieces_.pop_front();
    buffered_ -= piece.size();
    cv_.notify_all();
    return piece;
  }
  void End() {
    std::lock_guard<std::mutex> g(mu_);
    ended_ = true;
    cv_.notify_all();
  }
  // False when another abort came first.
  bool Abort(const std::string& why) {
    std::lock_guard<std::mutex> g(mu_);
    bool first = abort_.empty();
    if (first) abort_ = why;
    cv_.notify_all();
    return first;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pieces_;
  std::size_t buffered_ = 0;
  bool ended_ = false;
  std::string abort_;
};

}  // namespace

Result<PipeResult> Pipe(RemoteShell& from, const std::vector<std::string>& from_argv, RemoteShell& to,
                        const std::vector<std::string>& to_argv, const std::function<void(std::int64_t)>& moved) {
  Pieces pieces;
  std::int64_t carried = 0;
  Result<CommandResult> source = Error{"not run"};
  bool source_failed_first = false;  // before the target finished: then nothing it said counts
  std::thread reader([&] {
    CommandStreams streams;
    streams.output = [&](std::string_view piece) {
      carried += static_cast<std::int64_t>(piece.size());
      if (moved) moved(carried);
      return pieces.Push(piece);
    };
    source = from.RunStreamed(from_argv, streams);
    if (!source)
      source_failed_first = pieces.Abort("reading from " + from.Describe() + " failed: " + source.error().message);
    else if (source->exit_code != 0)
      source_failed_first = pieces.Abort("reading from " + from.Describe() + " failed (exit " +
                                         std::to_string(source->exit_code) + "): " + source->err);
    else pieces.End();
  });
  CommandStreams streams;
  streams.input = [&] { return pieces.Pop(); };
  Result<CommandResult> target = to.RunStreamed(to_argv, streams);
  // The target is done (a tar may stop at the archive's end marker, before the padding after
  // it): the source stops too, if it has not.
  pieces.Abort(target ? "the writing end finished"
                      : "writing to " + to.Describe() + " failed: " + target.error().message);
  reader.join();
  bool source_failed = !source || source->exit_code != 0;
  // A target that took everything before the source was stopped is believed (the caller
  // checks its checksum); one that failed after the source did only saw its input cut (over
  // SSH a cut may even look like an end): the source's failure is the cause.
  if (target && target->exit_code == 0 && !source_failed_first)
    return PipeResult{source ? *source : CommandResult{}, *target};
  if (source_failed && !source) return source.error();
  if (source_failed)
    return Error{"reading from " + from.Describe() + " failed (exit " + std::to_string(source->exit_code) +
                 "): " + source->err};
  if (!target) return target.error();
  return PipeResult{*source, *target};
}

}  // namespace reconcile::copy
