// What an apply or a rollback reports to, chosen once for both: the console (live on a
// terminal, a line per event elsewhere) or `--json` events, behind a Tally that counts for the
// lines that end the run.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/exec/console.h"
#include "engine/exec/json_events.h"
#include "engine/exec/tally.h"
#include "engine/run/apply_stages.h"

namespace reconcile {

class RunView {
 public:
  RunView(std::string op, bool json);

  Progress& progress() { return tally_; }
  const Tally& tally() const { return tally_; }

  // Before the first event; in JSON, "run_started" with `fields` (the spec, the stages).
  void Started(nlohmann::json fields);
  // After the last: the live line cleared; in JSON, "run_finished" with how the run ended and
  // what it did.
  void Finished(const RunEnd& end);

 private:
  std::string op_;
  std::optional<ConsoleProgress> console_;
  std::optional<JsonEvents> json_;
  Tally tally_;
};

}  // namespace reconcile
