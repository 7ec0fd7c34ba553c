#include "engine/exec/walk.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace reconcile {

namespace {

// What each step waits for: the steps of this stage it is `after`, and for a check, every
// change of the stage that does not itself wait on it — checks gate the stage, after its
// changes.
std::vector<std::vector<std::size_t>> Waits(const std::vector<Step>& steps) {
  std::map<std::size_t, std::size_t> step_of;  // resource → index in steps
  for (std::size_t i = 0; i < steps.size(); ++i) step_of[steps[i].resource] = i;
  auto is_check = [&](std::size_t i) { return steps[i].action == Action::kCheck; };
  std::vector<std::vector<std::size_t>> waits(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i)
    for (std::size_t dep : steps[i].after)
      if (auto it = step_of.find(dep); it != step_of.end() && it->second != i) waits[i].push_back(it->second);
  std::vector<std::vector<std::size_t>> waited_by(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i)
    for (std::size_t w : waits[i]) waited_by[w].push_back(i);
  for (std::size_t c = 0; c < steps.size(); ++c) {
    if (!is_check(c)) continue;
    // What waits on c, directly or not: one walk along the reverse edges.
    std::vector<bool> behind(steps.size(), false);
    std::vector<std::size_t> todo = {c};
    while (!todo.empty()) {
      std::size_t at = todo.back();
      todo.pop_back();
      for (std::size_t d : waited_by[at])
        if (!behind[d]) behind[d] = true, todo.push_back(d);
    }
    std::vector<bool> already(steps.size(), false);
    for (std::size_t w : waits[c]) already[w] = true;
    for (std::size_t i = 0; i < steps.size(); ++i)
      if (!is_check(i) && !behind[i] && !already[i]) waits[c].push_back(i);
  }
  return waits;
}

}  // namespace

std::vector<StepResult> WalkSteps(const Spec& spec, const std::vector<Step>& steps, StepRunner& runner,
                                  WalkLimits limits) {
  std::vector<StepResult> results(steps.size());
  const std::vector<std::vector<std::size_t>> waits = Waits(steps);
  auto is_check = [&](std::size_t i) { return steps[i].action == Action::kCheck; };

  enum class St { kWaiting, kRunning, kDone };
  std::vector<St> state(steps.size(), St::kWaiting);
  std::size_t remaining = steps.size();
  std::size_t running = 0;  // changes in flight (checks take no slot)
  std::map<std::string, std::size_t> per_slot;
  struct InFlight {
    std::vector<std::size_t> steps;
    std::string slot;
    bool check = false;
  };
  std::map<std::size_t, InFlight> in_flight;
  std::size_t next_token = 0;
  std::vector<std::string> slot_of(steps.size()), batch_of(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (!is_check(i)) slot_of[i] = runner.SlotOf(steps[i]), batch_of[i] = runner.BatchOf(steps[i]);

  auto finish = [&](std::size_t i, StepResult r) {
    results[i] = std::move(r);
    state[i] = St::kDone;
    --remaining;
  };
  auto succeeded = [&](std::size_t w) { return state[w] == St::kDone && results[w].ok; };

  while (remaining > 0) {
    bool progressed = false;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (state[i] != St::kWaiting) continue;
      std::string blocked_by;
      for (std::size_t w : waits[i])
        if (state[w] == St::kDone && !results[w].ok) blocked_by = spec.resources[steps[w].resource].address;
      if (!blocked_by.empty()) {
        finish(i, {false, false, "not run: it depends on " + blocked_by + ", which did not succeed", true});
        progressed = true;
        continue;
      }
      if (runner.Interrupted()) {
        finish(i, {false, false, "not run: interrupted", true});
        progressed = true;
        continue;
      }
      if (!std::all_of(waits[i].begin(), waits[i].end(), succeeded)) continue;
      std::size_t token = next_token++;
      if (is_check(i)) {
        state[i] = St::kRunning;
        in_flight[token] = {{i}, "", true};
        runner.Start(token, {&steps[i]});
        progressed = true;
        continue;
      }
      if (running >= limits.parallel || per_slot[slot_of[i]] >= limits.per_slot) continue;
      // Every other ready change of the same batch goes with this one.
      std::vector<std::size_t> batch = {i};
      if (!batch_of[i].empty())
        for (std::size_t j = 0; j < steps.size(); ++j)
          if (j != i && !is_check(j) && state[j] == St::kWaiting && batch_of[j] == batch_of[i] &&
              std::all_of(waits[j].begin(), waits[j].end(), succeeded))
            batch.push_back(j);
      std::vector<const Step*> started;
      for (std::size_t j : batch) state[j] = St::kRunning, started.push_back(&steps[j]);
      ++running;
      ++per_slot[slot_of[i]];
      in_flight[token] = {batch, slot_of[i], false};
      runner.Start(token, std::move(started));
      progressed = true;
    }
    if (remaining == 0 || progressed) continue;
    if (in_flight.empty()) {
      // Nothing runs and nothing can start: the steps left wait on each other.
      for (std::size_t i = 0; i < steps.size(); ++i)
        if (state[i] == St::kWaiting) finish(i, {false, false, "not run: it waits on a step that waits on it", true});
      break;
    }
    StepRunner::Finished done = runner.WaitForOne();
    auto it = in_flight.find(done.token);
    if (it == in_flight.end()) continue;
    for (std::size_t k = 0; k < it->second.steps.size(); ++k)
      finish(it->second.steps[k], k < done.results.size() ? std::move(done.results[k])
                                                          : StepResult{true, false, "the runner returned no result"});
    if (!it->second.check) --running, --per_slot[it->second.slot];
    in_flight.erase(it);
  }
  return results;
}

std::string Failures(const Spec& spec, const std::vector<Step>& steps, const std::vector<StepResult>& results) {
  std::string out;
  std::size_t not_run = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok) continue;
    // Every failure is said; of the steps left out, the first few: an interrupt of a
    // large stage left tens of thousands of lines burying the way on.
    if (results[i].left_out && ++not_run > kShownNotRun) continue;
    const std::string& address = spec.resources[steps[i].resource].address;
    out += "\n  " + address + ": " + StepErrorText(address, results[i].error, "    ");
  }
  if (not_run > kShownNotRun) out += "\n  … and " + std::to_string(not_run - kShownNotRun) + " more steps not run";
  return out;
}

StageOutcome OutcomeOf(const std::vector<StepResult>& results, bool interrupted) {
  StageOutcome o;
  o.interrupted = interrupted;
  for (const StepResult& r : results)
    if (!r.ok) ++(r.left_out ? o.not_run : o.failed);
  o.complete = o.failed == 0 && o.not_run == 0 && !interrupted;
  return o;
}

std::string StepErrorText(const std::string& address, const std::string& error, const std::string& indent) {
  std::string text = error.rfind(address + ": ", 0) == 0 ? error.substr(address.size() + 2) : error;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1))
    if (at + 1 < text.size() && text[at + 1] != '\n') text.insert(at + 1, indent);
  return text;
}

}  // namespace reconcile
