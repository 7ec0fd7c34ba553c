#include "engine/spec/toml_parse_ahead.h"

#include <stdexcept>
#include <system_error>
#include <utility>

namespace reconcile {

TomlParseAhead::TomlParseAhead(std::string_view text, std::string file, const std::vector<TomlPiece>& pieces,
                               std::size_t ahead)
    : text_(text),
      file_(std::move(file)),
      pieces_(pieces),
      ahead_(ahead < 1 ? 1 : ahead),
      parsed_(pieces.size()) {
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error&) {
    // No thread to be had (a limit on processes): each piece is parsed when taken, as before.
  }
}

TomlParseAhead::~TomlParseAhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ParsedPiece TomlParseAhead::Parse(std::size_t i) const {
  const TomlPiece& p = pieces_[i];
  ParsedPiece out;
  try {
    out.table = toml::parse(text_.substr(p.begin, p.end - p.begin), file_);
  } catch (const toml::parse_error& e) {
    out.ok = false;
    out.error = std::string(e.description());
    out.line = e.source().begin.line;
    out.column = e.source().begin.column;
  }
  return out;
}

void TomlParseAhead::Run() {
  try {
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || i - taken_ < ahead_; });
        if (stop_) return;
      }
      ParsedPiece out = Parse(i);
      {
        std::lock_guard<std::mutex> lock(mu_);
        parsed_[i] = std::move(out);
        done_ = i + 1;
      }
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = std::current_exception();
    cv_.notify_all();
  }
}

ParsedPiece TomlParseAhead::Take() {
  if (taken_ == pieces_.size()) throw std::logic_error("TomlParseAhead: every piece was taken");
  if (!thread_.joinable()) return Parse(taken_++);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return done_ > taken_ || failure_; });
  if (done_ <= taken_) std::rethrow_exception(failure_);
  ParsedPiece out = std::move(parsed_[taken_]);
  ++taken_;
  lock.unlock();
  cv_.notify_all();
  return out;
}

}  // namespace reconcile
