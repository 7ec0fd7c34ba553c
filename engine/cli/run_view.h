// What an apply or a rollback reports to, chosen once for both: the console (live on a
// terminal, a line per event elsewhere) or `--json` events, behind a Tally that counts for the
// lines that end the run, and, when the spec has [notify], a Notifier in front that posts the
// milestones to its webhook.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/exec/console.h"
#include "engine/exec/json_events.h"
#include "engine/exec/tally.h"
#include "engine/notify/notifier.h"
#include "engine/run/apply_stages.h"
#include "engine/run/timings.h"

namespace reconcile {

class RunView {
 public:
  RunView(std::string op, bool json, const Spec& spec);
  // The webhook's last messages get a few seconds to go, after the run's last lines: its time
  // and summary are the run's own.
  ~RunView();

  Progress& progress() { return notifier_ ? static_cast<Progress&>(*notifier_) : tally_; }
  const Tally& tally() const { return tally_; }

  // Before the first event; in JSON, "run_started" with `fields` (the spec, the stages).
  void Started(nlohmann::json fields);
  // After the last: the live line cleared; in JSON, "run_finished" with how the run ended and
  // what it did.
  void Finished(const RunEnd& end);
  // The last rehearsal's timings, for the console to hold the run to.
  void SetRehearsal(const Timings& timings) {
    if (console_) console_->SetRehearsal(timings.stages, timings.steps);
  }
  // The webhook's queue drained (a few seconds at most) and closed, before another run's view
  // opens (on_failure's rollback); the destructor does it otherwise.
  void Close() {
    if (notifier_) notifier_->Finish();
  }
  // Before a stage's `confirm` is asked: the webhook is told someone must answer.
  void ConfirmWaiting(const StageSpec& stage);

 private:
  std::string op_;
  std::optional<ConsoleProgress> console_;
  std::optional<JsonEvents> json_;
  Tally tally_;
  std::unique_ptr<Notifier> notifier_;  // after tally_: it reports to it, and goes first
};

}  // namespace reconcile
