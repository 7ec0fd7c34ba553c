// The operator's view of a run (ninja's LinePrinter and status line). On a terminal, finished
// steps scroll and one live line at the bottom shows the stage, [done/total], and the steps in
// flight with their elapsed time and latest word (a sync's objects and rate, a check's wait),
// redrawn as time passes; colour unless NO_COLOR. Elsewhere (CI, a log): a line per event, and
// a "still running" heartbeat while steps run long.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "engine/exec/progress.h"

namespace reconcile {

struct ConsoleOptions {
  bool live = false;                    // redraw a status line in place (a terminal that understands \r and ESC[K)
  bool colour = false;                  // ANSI colours on the scrolled lines
  int width = 0;                        // columns; 0: ask the terminal on stderr each redraw (it may be resized)
  std::chrono::milliseconds tick{500};  // how often the live line is redrawn
  std::chrono::milliseconds heartbeat{30000};   // without a live line: a step running this long is said again
  std::chrono::milliseconds note_every{10000};  // a step's own reports scroll at most this often when live
};

// What a terminal on stderr can show: live and coloured on a terminal that is not "dumb";
// colour off when NO_COLOR is set (no-color.org).
ConsoleOptions ConsoleOptionsForStderr();

class ConsoleProgress : public Progress {
 public:
  ConsoleProgress(std::ostream& out, ConsoleOptions options);
  ~ConsoleProgress() override;

  void StageStarted(const std::string& stage, std::size_t steps) override;
  void StageFinished(const std::string& stage, const StageOutcome& outcome) override;
  void StepStarted(const std::string& address, Action action) override;
  void StepFinished(const std::string& address, Action action, const std::string& error,
                    std::chrono::milliseconds took) override;
  void CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                    std::chrono::milliseconds timeout) override;
  void Note(const std::string& line) override;
  void Watching(const std::string& stage, std::chrono::milliseconds watched, std::chrono::milliseconds window,
                const std::string& detail) override;
  void Hold() override;
  void Release() override;

  // What the last rehearsal took (engine/run/timings.h), by stage and by step: the live line
  // shows a stage's time against it ("12m of ~9m"), and a step running over twice its
  // rehearsed time is said once.
  void SetRehearsal(std::map<std::string, std::chrono::milliseconds> stages,
                    std::map<std::string, std::chrono::milliseconds> steps);

  // Stops redrawing and clears the live line, so what follows (the run's summary on stdout,
  // an error) starts on a clean line. The destructor does it too.
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;
  struct Flight {
    std::size_t order = 0;  // started earlier, shown first
    Action action = Action::kNone;
    Clock::time_point started;
    std::string detail;         // its latest report, shown on the live line
    bool detail_shown = true;   // scrolled already (or nothing to scroll)
    bool wait_said = false;     // its first wait scrolled
    bool overrun_said = false;  // running over twice its rehearsed time, said
    // When its report last scrolled; none yet, so its first one does. (The clock's epoch is
    // the machine's boot: "never" as epoch held the first report back for the first hour.)
    std::optional<Clock::time_point> scrolled;
  };

  void Tick();
  // Writes a finished line above the live line (live) or as the next line (plain).
  void Scroll(const std::string& line);
  void Emit(const std::string& text);  // to the output, or to what a hold keeps for its release
  void ClearLine();
  void Redraw();
  std::string StatusLine(Clock::time_point now) const;
  std::string StillRunning(Clock::time_point now) const;
  std::string Paint(const std::string& text, const char* sgr) const;
  std::string Symbol(Action action) const;
  int Width() const;

  std::ostream& out_;
  const ConsoleOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread ticker_;

  bool in_stage_ = false;
  std::string stage_;
  Clock::time_point stage_started_;
  std::size_t total_ = 0, done_ = 0, started_count_ = 0;
  std::map<std::string, Flight> flights_;
  std::map<std::string, std::chrono::milliseconds> rehearsed_stages_, rehearsed_steps_;
  void SayOverruns(Clock::time_point now);
  std::string watching_;  // "watching 2m of 15m: 2 checks hold", while the stage is watched
  Clock::time_point watch_said_{};
  int held_ = 0;         // holds open (threads each report their bursts)
  std::string pending_;  // what they keep
  bool line_shown_ = false;
  std::string drawn_;                       // the live line as last drawn
  Clock::time_point last_heartbeat_{};      // a check's wait, said every 10 s (plain)
  Clock::time_point last_still_running_{};  // the plain heartbeat
};

}  // namespace reconcile
