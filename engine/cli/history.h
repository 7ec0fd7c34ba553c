// `reconcile history SPEC`: the runs in the journal as a timeline (who, when, each stage and
// step with its time, failures, rollbacks), as text or as an HTML page with an SVG chart;
// `--export FILE` writes the timings plan --timings reads.
#pragma once

#include <string>
#include <vector>

#include "engine/run/timings.h"

namespace reconcile {

std::string HistoryText(const Spec& spec, const std::string& journal, const std::vector<RunTime>& runs);
// A page of its own: a chart per run (stages as bands along time, steps as bars under them,
// failures red), no JavaScript.
std::string HistoryHtml(const Spec& spec, const std::string& journal, const std::vector<RunTime>& runs);

}  // namespace reconcile
