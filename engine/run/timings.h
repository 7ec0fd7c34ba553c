// What the journal says of its runs, with their times: the timeline `reconcile history` draws,
// and the rehearsal timings `plan` and `apply` show for the next run ("switch: 4m12s on lab").
// Every record carries when it was written; a step is timed from its intent to its outcome, a
// stage from the end of the one before it in the same run (its TTL wait and its checks, and
// its watch, included) to its checkpoint.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/journal/journal.h"
#include "engine/result.h"
#include "engine/spec/spec.h"

namespace reconcile {

struct StepTime {
  std::string address, action;
  std::chrono::system_clock::time_point started, ended;
  bool finished = false;  // its outcome was journaled (a kill leaves it open)
  bool ok = false;
  std::string error;
};

struct StageTime {
  std::string name;
  std::chrono::system_clock::time_point started, ended;
  bool complete = false;  // its checkpoint was journaled
  std::vector<StepTime> steps;
};

struct RunTime {
  std::uint64_t seq = 0;  // its `begin` record
  std::string op, env, holder, through, to;
  std::chrono::system_clock::time_point started, ended;
  std::string result;  // ok, failed, stopped, interrupted; "cut off" when it has no end
  std::vector<StageTime> stages;
};

// The runs in `records`, oldest first.
std::vector<RunTime> RunsOf(const std::vector<JournalRecord>& records);

// What a rehearsal took: each stage's and each step's latest time in a completed stage of an
// apply, from a journal or a file `history --export` wrote.
struct Timings {
  std::string source;  // "the lab run of 2026-11-26 (.reconcile/x.lab.journal)", for people
  std::string env;     // the runs' --env ("" for none)
  std::map<std::string, std::chrono::milliseconds> stages, steps;
  bool Empty() const { return stages.empty(); }
};

Timings TimingsOf(const std::vector<RunTime>& runs);
nlohmann::json TimingsToJson(const Spec& spec, const Timings& timings);
// A file `history --export` wrote; why not, naming the file.
Result<Timings> ReadTimings(const std::string& path);

// The last rehearsal of `spec`: the other journals beside its own (the same spec under
// another --env, or none), the one whose latest completed stage is newest. Empty when there
// is none; file journals only.
Timings LastRehearsal(const Spec& spec);

// For plan: each stage's rehearsed time, the sum, and the downtime window (from the stage
// marked downtime = "starts" to the one marked "ends"); "" when `timings` is empty.
std::string RehearsalText(const Spec& spec, const Timings& timings);

// From `a` to `b`, never negative (records' clocks may step back).
std::chrono::milliseconds Between(std::chrono::system_clock::time_point a, std::chrono::system_clock::time_point b);

// "2026-11-26 22:57:51" (UTC), for people.
std::string ShowTime(std::chrono::system_clock::time_point t);

}  // namespace reconcile
