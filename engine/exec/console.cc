#include "engine/exec/console.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/duration.h"
#include "engine/exec/walk.h"
#include "engine/plan/plan.h"

namespace reconcile {

namespace {

// Whole seconds: a live counter that shows milliseconds flickers and says nothing more.
std::string Elapsed(std::chrono::steady_clock::duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d);
  return s.count() < 1 ? "0s" : FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(s));
}

// One line, whatever a provider's report holds.
std::string Flat(const std::string& text) {
  std::string out = text;
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return out;
}

}  // namespace

ConsoleOptions ConsoleOptionsForStderr() {
  ConsoleOptions options;
  const char* term = std::getenv("TERM");
  options.live = ::isatty(STDERR_FILENO) && term && *term && std::strcmp(term, "dumb") != 0;
  const char* no_colour = std::getenv("NO_COLOR");
  options.colour = options.live && !(no_colour && *no_colour);
  return options;
}

ConsoleProgress::ConsoleProgress(std::ostream& out, ConsoleOptions options) : out_(out), options_(options) {
  // Started last: it reads every member.
  ticker_ = std::thread([this] { Tick(); });
}

ConsoleProgress::~ConsoleProgress() { Finish(); }

void ConsoleProgress::Finish() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  ticker_.join();
  std::lock_guard<std::mutex> g(mu_);
  out_ << pending_;  // nothing, unless a hold was left open
  pending_.clear();
  ClearLine();
  out_ << std::flush;
}

void ConsoleProgress::SetRehearsal(std::map<std::string, std::chrono::milliseconds> stages,
                                   std::map<std::string, std::chrono::milliseconds> steps) {
  std::lock_guard<std::mutex> g(mu_);
  rehearsed_stages_ = std::move(stages);
  rehearsed_steps_ = std::move(steps);
}

// Seconds-long steps only: a step rehearsed in 12 ms that takes 30 ms is no news at night.
void ConsoleProgress::SayOverruns(Clock::time_point now) {
  for (auto& [address, f] : flights_) {
    auto it = rehearsed_steps_.find(address);
    if (f.overrun_said || it == rehearsed_steps_.end()) continue;
    auto ran = now - f.started;
    if (ran < std::chrono::seconds(5) || ran <= 2 * it->second) continue;
    f.overrun_said = true;
    Scroll("reconcile: note: " + address + " has run " + Elapsed(ran) + ", over twice the " +
           FormatDuration(it->second) + " it took in the rehearsal");
  }
}

void ConsoleProgress::Tick() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, options_.tick, [this] { return stopping_; })) {
    if (!in_stage_) continue;
    auto now = Clock::now();
    SayOverruns(now);
    if (options_.live) {
      Redraw();
    } else if (now - last_still_running_ >= options_.heartbeat) {
      std::string line = StillRunning(now);
      if (line.empty()) continue;
      last_still_running_ = now;
      out_ << line + "\n" << std::flush;
    }
  }
}

void ConsoleProgress::StageStarted(const std::string& stage, std::size_t steps) {
  std::lock_guard<std::mutex> g(mu_);
  in_stage_ = true;
  stage_ = stage;
  stage_started_ = Clock::now();
  last_still_running_ = stage_started_;
  total_ = steps;
  done_ = 0;
  flights_.clear();
  watching_.clear();
  watch_said_ = stage_started_;
  Scroll("reconcile: stage " + stage + ": " + std::to_string(steps) + (steps == 1 ? " step" : " steps"));
}

void ConsoleProgress::StageFinished(const std::string& /*stage*/, const StageOutcome& /*outcome*/) {
  std::lock_guard<std::mutex> g(mu_);
  ClearLine();
  in_stage_ = false;
  flights_.clear();
  watching_.clear();
  out_ << std::flush;
}

void ConsoleProgress::StepStarted(const std::string& address, Action action) {
  std::lock_guard<std::mutex> g(mu_);
  Flight& f = flights_[address];
  f.order = started_count_++;
  f.action = action;
  f.started = Clock::now();
  // On a terminal the live line says it has started; a log says it on a line of its own.
  if (options_.live) Redraw();
  else
    Scroll("[" + std::to_string(done_) + "/" + std::to_string(total_) + "] " + Symbol(action) + " " + address + " ...");
}

void ConsoleProgress::StepFinished(const std::string& address, Action action, const std::string& error,
                                   std::chrono::milliseconds took) {
  std::lock_guard<std::mutex> g(mu_);
  if (auto it = flights_.find(address); it != flights_.end()) {
    // Its last report (a sync's "synced 2,000 objects in 4s") is not lost to the redraw.
    if (options_.live && !it->second.detail_shown) Scroll("reconcile: " + address + ": " + it->second.detail);
    flights_.erase(it);
  }
  // A watched check that failed is said after the stage's steps were counted.
  done_ = std::min(done_ + 1, total_);
  std::string line = "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] " + Symbol(action) + " " + address;
  if (error.empty()) line += action == Action::kNone ? " already done" : " done (" + FormatDuration(took) + ")";
  else  // The time before the error, which may run over lines (a command's stderr).
    line +=
        " " + Paint("FAILED", "1;31") + " after " + FormatDuration(took) + ": " + StepErrorText(address, error, "    ");
  Scroll(line);
}

void ConsoleProgress::CheckWaiting(const std::string& address, const std::string& detail,
                                   std::chrono::milliseconds waited, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> g(mu_);
  auto now = Clock::now();
  std::string said =
      "waiting for " + address + ": " + detail + " (" + FormatDuration(waited) + " of " + FormatDuration(timeout) + ")";
  if (auto it = flights_.find(address); options_.live && it != flights_.end()) {
    it->second.detail = "waiting: " + detail + ", timeout " + FormatDuration(timeout);
    // The first wait scrolls, so the screen keeps that it waited; the rest live on the line.
    if (it->second.wait_said) return Redraw();
    it->second.wait_said = true;
    return Scroll("reconcile: " + said);
  }
  // A line per try would flood a long wait: one every 10 s, and the first one.
  if (waited.count() > 0 && now - last_heartbeat_ < std::chrono::seconds(10)) return;
  last_heartbeat_ = now;
  Scroll("reconcile: " + said);
}

void ConsoleProgress::Note(const std::string& line) {
  std::lock_guard<std::mutex> g(mu_);
  if (options_.live) {
    // A step's own report ("ADDRESS: synced 1200/2000 objects, ...") goes on the live line,
    // and scrolls once in a while.
    for (auto& [address, f] : flights_) {
      if (line.size() <= address.size() + 2 || line.compare(0, address.size(), address) != 0 ||
          line.compare(address.size(), 2, ": ") != 0)
        continue;
      auto now = Clock::now();
      f.detail = line.substr(address.size() + 2);
      f.detail_shown = !f.scrolled || now - *f.scrolled >= options_.note_every;
      if (f.detail_shown) {
        f.scrolled = now;
        Scroll("reconcile: " + line);
      } else {
        Redraw();
      }
      return;
    }
  }
  Scroll("reconcile: " + line);
}

void ConsoleProgress::Watching(const std::string& stage, std::chrono::milliseconds watched,
                               std::chrono::milliseconds window, const std::string& detail) {
  std::lock_guard<std::mutex> g(mu_);
  watching_ = "watching " + Elapsed(watched) + " of " + FormatDuration(window) + ": " + detail;
  if (options_.live) return Redraw();
  // A log hears of the watch once a minute.
  auto now = Clock::now();
  if (now - watch_said_ < std::chrono::minutes(1)) return;
  watch_said_ = now;
  Scroll("reconcile: stage " + stage + " " + watching_);
}

void ConsoleProgress::Hold() {
  std::lock_guard<std::mutex> g(mu_);
  ++held_;
}

void ConsoleProgress::Release() {
  std::lock_guard<std::mutex> g(mu_);
  if (--held_ > 0 || pending_.empty()) return;
  out_ << pending_;
  pending_.clear();
  Redraw();
  out_ << std::flush;
}

void ConsoleProgress::Emit(const std::string& text) {
  if (held_ > 0) pending_ += text;
  else out_ << text;
}

void ConsoleProgress::Scroll(const std::string& line) {
  ClearLine();
  // One piece: std::cerr writes each << at once, and a log of a thousand steps' lines was
  // twice as many writes.
  Emit(line + "\n");
  if (held_ > 0) return;
  if (options_.live) Redraw();
  out_ << std::flush;
}

void ConsoleProgress::ClearLine() {
  if (!line_shown_) return;
  Emit("\r\x1b[K");
  line_shown_ = false;
}

void ConsoleProgress::Redraw() {
  // While held, the lines kept go first: the live line is drawn after them, at the release.
  if (!options_.live || !in_stage_ || stopping_ || held_ > 0) return;
  std::string line = StatusLine(Clock::now());
  if (line_shown_ && line == drawn_) return;  // a tick that changed nothing writes nothing
  out_ << "\r" + line + "\x1b[K" << std::flush;
  drawn_ = std::move(line);
  line_shown_ = true;
}

std::string ConsoleProgress::StatusLine(Clock::time_point now) const {
  std::string line =
      "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] " + stage_ + " " + Elapsed(now - stage_started_);
  if (auto it = rehearsed_stages_.find(stage_); it != rehearsed_stages_.end()) line += " of ~" + Elapsed(it->second);
  std::vector<const std::pair<const std::string, Flight>*> running;
  for (const auto& entry : flights_) running.push_back(&entry);
  std::sort(running.begin(), running.end(), [](auto* a, auto* b) { return a->second.order < b->second.order; });
  const char* sep = ": ";
  if (!watching_.empty() && running.empty()) line += sep + watching_;
  for (auto* entry : running) {
    const Flight& f = entry->second;
    line += sep + std::string(ActionSymbol(f.action)) + " " + entry->first + " " + Elapsed(now - f.started);
    if (!f.detail.empty()) line += " (" + Flat(f.detail) + ")";
    sep = ", ";
  }
  // One line or the redraw scrolls: cut at the width, never inside a UTF-8 character.
  std::size_t width = static_cast<std::size_t>(std::max(Width() - 1, 10));
  if (line.size() > width) {
    std::size_t cut = width - 3;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line = line.substr(0, cut) + "...";
  }
  return line;
}

std::string ConsoleProgress::StillRunning(Clock::time_point now) const {
  std::vector<const std::pair<const std::string, Flight>*> running;
  for (const auto& entry : flights_)
    if (now - entry.second.started >= options_.heartbeat) running.push_back(&entry);
  if (running.empty()) return "";
  std::sort(running.begin(), running.end(), [](auto* a, auto* b) { return a->second.order < b->second.order; });
  std::string line = "reconcile: still running in stage " + stage_ + " (" + Elapsed(now - stage_started_) + "):";
  for (auto* entry : running) line += " " + entry->first + " " + Elapsed(now - entry->second.started) + ",";
  line.pop_back();
  return line;
}

std::string ConsoleProgress::Paint(const std::string& text, const char* sgr) const {
  if (!options_.colour) return text;
  return std::string("\x1b[") + sgr + "m" + text + "\x1b[0m";
}

std::string ConsoleProgress::Symbol(Action action) const {
  std::string symbol = ActionSymbol(action);
  switch (action) {
    case Action::kCreate:
      return Paint(symbol, "32");
    case Action::kUpdate:
      return Paint(symbol, "33");
    case Action::kDelete:
      return Paint(symbol, "31");
    case Action::kCheck:
      return Paint(symbol, "36");
    default:
      return symbol;
  }
}

int ConsoleProgress::Width() const {
  if (options_.width > 0) return options_.width;
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace reconcile
