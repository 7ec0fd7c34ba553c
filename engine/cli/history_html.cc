// The history as a page of charts, one per run: time runs left to right; each stage is a band
// from where the stage before it ended to its checkpoint, its steps bars under it, from their
// intent to their outcome. Plain SVG with <title> tooltips: it opens in any browser, prints,
// and can be attached to a change request. Elements carry classes and data- attributes, so a
// test can read the picture's structure.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/cli/history.h"
#include "engine/duration.h"
#include "engine/markup.h"

namespace reconcile {

namespace {

using Clock = std::chrono::system_clock;

constexpr int kWidth = 1000, kRow = 20, kAxis = 28;
// The labels' column: wide enough for the longest label of the page (12px monospace, at most
// 7.3px a character), from 300 to 600 px; a longer label is cut, its whole text in the tooltip.
constexpr int kMinLabel = 300, kMaxLabel = 600, kStageX = 8, kStepX = 20;
constexpr double kCharWidth = 7.3;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A round step for the time axis (200 ms, 500 ms, 1 s, 2 s, 5 s, 10 s, 15 s, 30 s, 1 m, ...): at most
// six intervals over `span` ms, so each tick is a time a person reads as is.
double TickStep(double span) {
  static const double kSteps[] = {200,     500,     1000,     2000,     5000,     10000,   15000,
                                  30000,   60000,   120000,   300000,   600000,   900000,  1800000,
                                  3600000, 7200000, 10800000, 21600000, 43200000, 86400000};
  for (double s : kSteps)
    if (span / s <= 6) return s;
  return std::ceil(span / 6 / 86400000) * 86400000;
}

// A tick's time, exactly: FormatDuration cuts 1500 ms to "1s".
std::string TickLabel(long long ms) {
  if (ms == 0) return "0s";
  if (ms < 1000 || ms % 1000 == 0) return FormatDuration(std::chrono::milliseconds(ms));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000);
  return buf;
}

std::string StageLabel(const StageTime& st) {
  return st.name + "  " + FormatDuration(Between(st.started, st.ended)) + (st.complete ? "" : "  (not complete)");
}

std::string StepLabel(const StepTime& step) {
  return step.address + "  " + FormatDuration(Between(step.started, step.ended)) +
         (!step.finished ? "  cut off"
          : !step.ok     ? "  FAILED"
                         : "");
}

// `text` cut to what fits in the labels' column from `x`, "…" marking the cut.
std::string Fit(const std::string& text, int x, int label) {
  std::size_t room = static_cast<std::size_t>((label - x - 12) / kCharWidth);
  if (text.size() <= room) return text;
  std::size_t keep = room > 1 ? room - 1 : 0;
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;  // whole UTF-8 characters
  return text.substr(0, keep) + "\u2026";
}

// The labels' column for `runs`: all charts of a page share it, so their time axes line up.
int LabelWidth(const std::vector<RunTime>& runs) {
  double widest = 0;
  for (const RunTime& run : runs)
    for (const StageTime& st : run.stages) {
      widest = std::max(widest, kStageX + kCharWidth * static_cast<double>(StageLabel(st).size()));
      for (const StepTime& step : st.steps)
        widest = std::max(widest, kStepX + kCharWidth * static_cast<double>(StepLabel(step).size()));
    }
  return std::clamp(static_cast<int>(std::ceil(widest)) + 12, kMinLabel, kMaxLabel);
}

std::string StepClass(const StepTime& step) {
  if (!step.finished) return "step cut-off";
  if (!step.ok) return "step failed";
  return "step " + step.action;
}

// One run's chart.
std::string RunSvg(const RunTime& run, int label) {
  std::size_t rows = 0;
  for (const StageTime& st : run.stages) rows += 1 + st.steps.size();
  const int height = kAxis + static_cast<int>(rows) * kRow + 8;
  const double span = std::max<double>(1000.0, static_cast<double>(Between(run.started, run.ended).count()));
  const double plot = kWidth - label - 20;
  auto x = [&](Clock::time_point t) {
    return label + plot * static_cast<double>(Between(run.started, t).count()) / span;
  };
  auto w = [&](Clock::time_point a, Clock::time_point b) {
    return std::max(2.0, plot * static_cast<double>(Between(a, b).count()) / span);
  };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"run\" width=\"" + std::to_string(kWidth) +
                    "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(kWidth) + " " +
                    std::to_string(height) + "\" data-op=\"" + XmlEscape(run.op) + "\" data-result=\"" +
                    XmlEscape(run.result) + "\">\n";
  // The time axis: a tick at every round step over the run.
  const double tick = TickStep(span);
  for (int i = 0; i * tick <= span + 0.5; ++i) {
    double tx = label + plot * i * tick / span;
    svg += "<line class=\"tick\" x1=\"" + Num(tx) + "\" y1=\"" + std::to_string(kAxis - 6) + "\" x2=\"" + Num(tx) +
           "\" y2=\"" + std::to_string(height) + "\"/>\n<text class=\"axis\" x=\"" + Num(tx) + "\" y=\"" +
           std::to_string(kAxis - 10) + "\" text-anchor=\"middle\">" + TickLabel(std::llround(i * tick)) + "</text>\n";
  }
  int y = kAxis;
  for (const StageTime& st : run.stages) {
    auto took = Between(st.started, st.ended);
    std::string cls = std::string("stage ") + (st.complete ? "complete" : "incomplete") +
                      (st.name.rfind("rollback to ", 0) == 0 ? " rollback" : "");
    svg += "<g class=\"" + cls + "\" data-stage=\"" + XmlEscape(st.name) + "\" data-ms=\"" +
           std::to_string(took.count()) + "\"><title>stage " + XmlEscape(st.name) + ": " + FormatDuration(took) +
           (st.complete ? "" : ", not complete") + "</title>\n<rect class=\"" + cls + "\" x=\"" + Num(x(st.started)) +
           "\" y=\"" + std::to_string(y + 2) + "\" width=\"" + Num(w(st.started, st.ended)) + "\" height=\"" +
           std::to_string(kRow - 4) + "\"/>\n<text class=\"label stage-label\" x=\"" + std::to_string(kStageX) +
           "\" y=\"" + std::to_string(y + kRow - 6) + "\">" + XmlEscape(Fit(StageLabel(st), kStageX, label)) +
           "</text></g>\n";
    y += kRow;
    for (const StepTime& step : st.steps) {
      auto step_took = Between(step.started, step.ended);
      std::string scls = StepClass(step);
      std::string tip = step.action + " " + step.address + ": " + FormatDuration(step_took) +
                        (!step.finished ? ", cut off"
                         : !step.ok     ? ", FAILED: " + step.error
                                        : "");
      svg += "<g class=\"" + scls + "\" data-address=\"" + XmlEscape(step.address) + "\" data-ms=\"" +
             std::to_string(step_took.count()) + "\"><title>" + XmlEscape(tip) + "</title>\n<rect class=\"" + scls +
             "\" x=\"" + Num(x(step.started)) + "\" y=\"" + std::to_string(y + 5) + "\" width=\"" +
             Num(w(step.started, step.ended)) + "\" height=\"" + std::to_string(kRow - 10) +
             "\"/>\n<text class=\"label\" x=\"" + std::to_string(kStepX) + "\" y=\"" + std::to_string(y + kRow - 6) +
             "\">" + XmlEscape(Fit(StepLabel(step), kStepX, label)) + "</text></g>\n";
      y += kRow;
    }
  }
  return svg + "</svg>\n";
}

}  // namespace

std::string HistoryHtml(const Spec& spec, const std::string& journal, const std::vector<RunTime>& runs) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + XmlEscape(spec.name) +
      ": history</title>\n<style>\n"
      "body { font-family: sans-serif; margin: 24px; color: #222; }\n"
      "h2 { font-size: 16px; margin: 28px 0 6px; }\n"
      ".meta { color: #555; font-size: 13px; margin: 0 0 8px; }\n"
      "svg text { font-size: 12px; font-family: monospace; fill: #222; }\n"
      "svg text.axis { fill: #777; }\n"
      "svg line.tick { stroke: #e4e4e4; }\n"
      "svg text.stage-label { font-weight: bold; }\n"
      "rect.stage.complete { fill: #8fbf7f; }\n"
      "rect.stage.incomplete { fill: #e8a09a; }\n"
      "rect.stage.rollback { fill: #f0b66e; }\n"
      "rect.step.create { fill: #3f8f3f; }\n"
      "rect.step.update { fill: #c9962b; }\n"
      "rect.step.delete { fill: #a34e4e; }\n"
      "rect.step.failed { fill: #d62c1f; stroke: #7a0f08; }\n"
      "rect.step.cut-off { fill: #888; }\n"
      ".legend span { display: inline-block; margin-right: 14px; font-size: 13px; }\n"
      ".legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }\n"
      "</style>\n</head>\n<body>\n<h1>" +
      XmlEscape(spec.name) + "</h1>\n<p class=\"meta\">" + std::to_string(runs.size()) +
      (runs.size() == 1 ? " run" : " runs") + " in " + XmlEscape(journal) +
      "; times UTC. Each stage runs from the end of the one before it to its checkpoint; each step from its "
      "intent to its outcome.</p>\n<p class=\"legend\"><span><i style=\"background:#8fbf7f\"></i>stage "
      "complete</span><span><i style=\"background:#e8a09a\"></i>stage not complete</span><span><i "
      "style=\"background:#f0b66e\"></i>rollback</span><span><i style=\"background:#3f8f3f\"></i>create</span><span><i "
      "style=\"background:#c9962b\"></i>update</span><span><i style=\"background:#a34e4e\"></i>delete</span><span><i "
      "style=\"background:#d62c1f\"></i>failed</span><span><i style=\"background:#888\"></i>cut off</span></p>\n";
  const int label = LabelWidth(runs);
  std::size_t n = 0;
  for (const RunTime& run : runs) {
    ++n;
    html += "<section class=\"run\">\n<h2>#" + std::to_string(n) + " " + XmlEscape(run.op) +
            (run.op == "apply" ? " through " + XmlEscape(run.through) : " to " + XmlEscape(run.to)) + ": " +
            XmlEscape(run.result) + "</h2>\n<p class=\"meta\">by " + XmlEscape(run.holder) +
            (run.env.empty() ? "" : ", --env " + XmlEscape(run.env)) + ", " + ShowTime(run.started) + " to " +
            ShowTime(run.ended).substr(11) + " (" + FormatDuration(Between(run.started, run.ended)) + ")</p>\n" +
            RunSvg(run, label) + "</section>\n";
  }
  return html + "</body>\n</html>\n";
}

}  // namespace reconcile
