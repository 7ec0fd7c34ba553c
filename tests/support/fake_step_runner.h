// A StepRunner that runs nothing (ninja's FakeCommandRunner): it records what the walk started,
// finishes started batches one at a time in the order they started, fails the addresses it is
// told to, and reports Ctrl-C after a chosen number of finishes. No threads, no sleeps.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/exec/walk.h"
#include "engine/spec/spec.h"

namespace reconcile {

struct FakeStepRunner : StepRunner {
  explicit FakeStepRunner(const Spec& s) : spec(s) {}

  const Spec& spec;
  std::set<std::string> failing;             // addresses whose step fails
  std::map<std::string, std::string> slot;   // address → slot ("" unless set)
  std::map<std::string, std::string> batch;  // address → batch key ("" unless set)
  int interrupt_after = -1;                  // finishes before "Ctrl-C" (-1: never)

  std::vector<std::string> started;               // addresses, in the order they started
  std::vector<std::vector<std::string>> batches;  // each Start's addresses
  std::vector<std::string> finished;              // addresses, in the order they finished
  std::vector<std::string> events;                // "start ADDRESS" / "finish ADDRESS", in order
  std::size_t most_at_once = 0;                   // changes in flight at once, at most
  std::map<std::string, std::size_t> most_in_slot;

  std::string SlotOf(const Step& s) override { return Lookup(slot, s); }
  std::string BatchOf(const Step& s) override { return Lookup(batch, s); }

  void Start(std::size_t token, std::vector<const Step*> steps) override {
    std::vector<std::string> names;
    for (const Step* s : steps) {
      names.push_back(Address(*s));
      started.push_back(names.back());
      events.push_back("start " + names.back());
    }
    batches.push_back(names);
    bool check = steps.size() == 1 && steps[0]->action == Action::kCheck;
    queue_.push_back({token, steps, check});
    if (!check) {
      std::size_t changes = std::count_if(queue_.begin(), queue_.end(), [](const Run& r) { return !r.check; });
      most_at_once = std::max(most_at_once, changes);
      std::string key = SlotOf(*steps[0]);
      std::size_t in_slot = std::count_if(queue_.begin(), queue_.end(),
                                          [&](const Run& r) { return !r.check && SlotOf(*r.steps[0]) == key; });
      most_in_slot[key] = std::max(most_in_slot[key], in_slot);
    }
  }

  Finished WaitForOne() override {
    Run run = queue_.front();
    queue_.pop_front();
    Finished f{run.token, {}};
    for (const Step* s : run.steps) {
      std::string address = Address(*s);
      finished.push_back(address);
      events.push_back("finish " + address);
      ++finishes_;
      if (failing.count(address)) f.results.push_back({true, false, "told to fail"});
      else f.results.push_back({true, true, ""});
    }
    return f;
  }

  bool Interrupted() override { return interrupt_after >= 0 && finishes_ >= interrupt_after; }

  // Index in `started` of an address, or -1.
  int StartedAt(const std::string& address) const {
    auto it = std::find(started.begin(), started.end(), address);
    return it == started.end() ? -1 : static_cast<int>(it - started.begin());
  }
  int FinishedAt(const std::string& address) const {
    auto it = std::find(finished.begin(), finished.end(), address);
    return it == finished.end() ? -1 : static_cast<int>(it - finished.begin());
  }

 private:
  struct Run {
    std::size_t token;
    std::vector<const Step*> steps;
    bool check;
  };
  std::string Address(const Step& s) const { return spec.resources[s.resource].address; }
  std::string Lookup(const std::map<std::string, std::string>& m, const Step& s) const {
    auto it = m.find(Address(s));
    return it == m.end() ? "" : it->second;
  }
  std::deque<Run> queue_;
  int finishes_ = 0;
};

}  // namespace reconcile
