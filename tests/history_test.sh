#!/usr/bin/env bash
# Rehearsal timings, through the binary as an operator uses them: a rehearsal under --env lab (an
# apply through "verify", a rollback, an apply that fails in "verify"), then
#   history --env lab          the runs in order: op, who, result, each stage and step with its time,
#                              the failure with its error, the rollback as "rollback to STAGE";
#   history --export FILE      the timings as JSON (reconcile-timings, version 1) that plan reads
#                              back; a file that is not one is refused, naming it;
#   plan                       "Rehearsed: the lab runs, …" with each stage's time, "not rehearsed"
#                              for the stage the lab never completed, the sum and the downtime
#                              window (the stages from downtime = "starts" to "ends");
#   apply on a terminal        the rehearsal before the question, the live line's "of ~TIME", and
#                              one note for the step running over twice its rehearsed time;
#   history --format html      an SVG per run whose structure (classes, data-ms, rect sizes)
#                              agrees with the text; rendered by headless Chromium to a PNG kept
#                              beside the binary (history_test.png) for people to look at.
# The secret a step takes (env:HISTORY_SECRET) shows in none of them.
# Usage: history_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" history
cd "$work" || exit 1
started_at=$(date +%s)

export HISTORY_SECRET="s3cr3t-$RANDOM$RANDOM-history"
testdata hist >hist.toml
testdata hist.lab >hist.lab.toml
who="$(id -un)@$(uname -n)"

# Checks in Python print one line each, "ok" or "bad WHY"; py counts them (a traceback fails).
cat >checks.py <<'PY'
import re, sys

FLIP = "command.point_traffic_at_new_primary"  # a long address: the labels' column fits it

def check(cond, why):
    print("ok" if cond else "bad " + str(why).replace("\n", " | "))
    sys.stdout.flush()
    return bool(cond)

def fmt(ms):
    """A duration as reconcile shows it (engine/duration.cc FormatDuration): truncated."""
    if ms < 1000:
        return f"{ms}ms"
    s = ms // 1000
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m" + (f"{s % 60}s" if s % 60 else "")
    return f"{s // 3600}h" + (f"{s % 3600 // 60}m" if s % 3600 // 60 else "")

def shown_ms(text):
    """The milliseconds a shown duration stands for, as [lo, hi]."""
    m = re.fullmatch(r"(\d+)ms", text)
    if m:
        return int(m[1]), int(m[1])
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", text)
    if not m or not text:
        raise ValueError(f"not a duration: {text!r}")
    ms = (int(m[1] or 0) * 60 + int(m[2] or 0)) * 1000
    return ms, ms + (999 if m[2] else 59999)

def within(text, lo, hi):
    """The shown duration `text` may stand for a time in [lo, hi] ms."""
    a, b = shown_ms(text)
    return a <= hi and b >= lo

def history(text):
    """`reconcile history` text: [{n, op, to, who, env, start, end, took, result, stages:
    [{name, took, complete, steps: [{sym, address, took, status, error}]}]}]."""
    runs, stage, step = [], None, None
    lines = text.split("\n")
    for line in lines[1:]:
        if not line:
            continue
        m = re.fullmatch(r"#(\d+) (\w+) (?:through|to) (\S+) by (\S+?)(?:, --env (\S+))?", line)
        if m:
            runs.append(dict(n=int(m[1]), op=m[2], to=m[3], who=m[4], env=m[5], stages=[]))
            continue
        m = re.fullmatch(r"   (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) to (\d\d:\d\d:\d\d) \((\S+)\): (.+)", line)
        if m and runs and "start" not in runs[-1]:
            runs[-1].update(start=m[1], end=m[2], took=m[3], result=m[4])
            continue
        m = re.fullmatch(r"   (\S.*?)  +(\S+)(  \(not complete\))?", line)
        if m:
            stage = dict(name=m[1], took=m[2], complete=not m[3], steps=[])
            runs[-1]["stages"].append(stage)
            continue
        m = re.fullmatch(r"     ([-+~?]) (\S+)  (\S+)(?:  (FAILED|cut off)(?:: (.*))?)?", line)
        if m:
            step = dict(sym=m[1], address=m[2], took=m[3], status=m[4] or "ok", error=m[5] or "")
            stage["steps"].append(step)
            continue
        if line.startswith("         ") and step is not None and step["status"] == "FAILED":
            step["error"] += "\n" + line.strip()
            continue
        raise ValueError(f"a line history should not print: {line!r}")
    return runs
PY
py() {
  local line out
  out=$(PYTHONPATH=$work python3 - "$@" 2>&1)
  [ -n "$out" ] || { bad "a Python check printed nothing"; return; }
  while IFS= read -r line; do
    case $line in
      ok) ok ;;
      bad\ *) bad "${line#bad }" ;;
      *) bad "python: $line" ;;
    esac
  done <<<"$out"
}

# --- 1. The rehearsal: apply through verify, roll back to prepare, apply again and fail. ---
"$bin" apply hist.toml --env lab --through verify --yes >lab1.out 2>lab1.err && ok ||
  bad "the lab apply through verify: $(cat lab1.out lab1.err)"
[ "$(cat lab/token 2>/dev/null)" = "$HISTORY_SECRET" ] && ok || bad "command.warm was handed the secret"
"$bin" rollback hist.toml --env lab --to prepare --yes >lab2.out 2>lab2.err && ok ||
  bad "the lab rollback to prepare: $(cat lab2.out lab2.err)"
touch fail-marker
"$bin" apply hist.toml --env lab --yes >lab3.out 2>lab3.err
[ $? -eq 1 ] && ok || bad "the second lab apply fails in verify: $(cat lab3.out lab3.err)"
grep -qF "stage 'verify' failed" lab3.err && ok || bad "the second lab apply fails in verify: $(cat lab3.err)"
rm -f fail-marker
[ -s .reconcile/hist.lab.journal ] && [ ! -e .reconcile/hist.journal ] && ok ||
  bad "the lab runs have a journal of their own: $(ls -a .reconcile)"

# --- 2. history --env lab as text. ---
"$bin" history hist.toml --env lab >hist.txt 2>err && ok || bad "history --env lab: $(cat err)"
py hist.txt "$who" <<'PY'
import sys
from checks import *
text = open(sys.argv[1]).read()
who = sys.argv[2]
check(text.startswith("hist: 3 runs in .reconcile/hist.lab.journal (times UTC)\n"), f"the heading: {text[:200]}")
runs = history(text)
check([(r["n"], r["op"], r["to"], r["result"]) for r in runs] ==
      [(1, "apply", "verify", "ok"), (2, "rollback", "prepare", "ok"), (3, "apply", "cleanup", "failed")],
      f"the runs in order with their op and result: {runs}")
check(all(r["who"] == who and r["env"] == "lab" for r in runs), f"each run by {who}, --env lab: {runs}")
starts = [r["start"] for r in runs]
check(starts == sorted(starts), f"the runs oldest first: {starts}")

def stages(run):
    return [(s["name"], s["complete"], [(p["sym"], p["address"], p["status"]) for p in s["steps"]])
            for s in run["stages"]]

# Each step in its stage: what it did, and in which order.
check(stages(runs[0]) == [
    ("prepare", True, [("+", "command.setup", "ok"), ("+", "command.warm", "ok")]),
    ("switch", True, [("+", "command.stop", "ok"), ("+", FLIP, "ok")]),
    ("verify", True, [("+", "command.verify", "ok")])], f"run 1's stages and steps: {runs[0]}")
check(stages(runs[1]) == [("rollback to prepare", True,
                           [("-", "command.verify", "ok"), ("-", FLIP, "ok"), ("-", "command.stop", "ok")])],
      f"run 2, the rollback, as one stage 'rollback to prepare' undoing in reverse: {runs[1]}")
check(stages(runs[2]) == [
    ("switch", True, [("+", "command.stop", "ok"), ("+", FLIP, "ok")]),
    ("verify", False, [("+", "command.verify", "FAILED")])], f"run 3's stages, verify not complete: {runs[2]}")
failed = runs[2]["stages"][1]["steps"][0] if len(runs[2]["stages"]) > 1 and runs[2]["stages"][1]["steps"] else {}
check("`apply` exited 1 on local" in failed.get("error", "") and
      "verify: the new site answers 503" in failed.get("error", ""), f"the failed step's error: {failed}")

# Times: a `sleep N` step shows N s (a second of slack for a loaded machine); a stage takes its
# steps' times and little more; a run its stages'.
sleeps = {"command.setup": 0, "command.warm": 1, "command.stop": 2, FLIP: 1, "command.verify": 1}
for r in runs:
    for s in r["stages"]:
        low = high = 0
        for p in s["steps"]:
            if r["op"] == "rollback":
                check(within(p["took"], 0, 999), f"run {r['n']}: a revert (rm -f) takes ms: {p}")
                continue
            n = sleeps[p["address"]]
            check(within(p["took"], n * 1000, n * 1000 + 1500), f"run {r['n']}: {p['address']} sleeps {n}s: {p}")
            low += n * 1000
            high += n * 1000 + 1500
        check(within(s["took"], low, high + 500), f"run {r['n']}: stage {s['name']} takes its steps' time: {s}")
    total = sum(shown_ms(s["took"])[0] for s in r["stages"])
    check(within(r["took"], total, total + 1000 * (len(r["stages"]) + 1)), f"run {r['n']}: its stages' time: {r}")
PY

# --- 3. history --export: the timings as JSON; plan refuses a file that is not one. ---
"$bin" history hist.toml --env lab --export t.json >out 2>err && ok || bad "history --export: $(cat err)"
grep -qF "reconcile: timings of 3 stages and 5 steps (the lab runs, the last on " err &&
  grep -qF "written to t.json" err && ok || bad "export says what it wrote: $(cat err)"
[ ! -s out ] && ok || bad "export prints nothing on stdout: $(cat out)"
py t.json hist.txt <<'PY'
import json, sys
from checks import *
try:
    doc = json.load(open(sys.argv[1]))
except ValueError as e:
    check(False, f"the export is not JSON: {e}")
    raise SystemExit
runs = history(open(sys.argv[2]).read())
check(doc.get("format") == "reconcile-timings" and doc.get("version") == 1, f"format and version: {doc}")
check(doc.get("spec") == "hist" and doc.get("env") == "lab", f"spec and env: {doc}")
check(doc.get("source", "").startswith("the lab runs, the last on "), f"source: {doc}")
stages, steps = doc.get("stages", {}), doc.get("steps", {})
check(sorted(stages) == ["prepare", "switch", "verify"], f"the completed stages only (not cleanup): {stages}")
check(sorted(steps) == [FLIP, "command.setup", "command.stop", "command.verify", "command.warm"],
      f"the steps that succeeded: {steps}")
check(all(isinstance(v, int) and v >= 0 for v in list(stages.values()) + list(steps.values())),
      f"milliseconds: {doc}")
ranges = {"command.setup": (0, 999), "command.warm": (1000, 2500), "command.stop": (2000, 3500),
          FLIP: (1000, 2500), "command.verify": (1000, 2500)}
for address, (lo, hi) in ranges.items():
    check(lo <= steps.get(address, -1) <= hi, f"{address}: {steps.get(address)} ms, not in [{lo}, {hi}]")
for name, parts in {"prepare": ["command.setup", "command.warm"], "switch": ["command.stop", FLIP],
                    "verify": ["command.verify"]}.items():
    least = sum(steps.get(p, 0) for p in parts)
    check(least <= stages.get(name, -1) <= least + 1000, f"stage {name}: {stages.get(name)} ms, its steps {least}")
# Each stage's latest completed time: switch from run 3, verify from run 1 (not complete in run 3).
if len(runs) == 3 and len(runs[2]["stages"]) == 2:
    check(fmt(stages.get("switch", 0)) == runs[2]["stages"][0]["took"], f"switch as run 3 took it: {stages}")
    check(fmt(stages.get("verify", 0)) == runs[0]["stages"][2]["took"], f"verify as run 1 took it: {stages}")
    check(fmt(steps.get("command.stop", 0)) == runs[2]["stages"][0]["steps"][0]["took"], f"stop as run 3: {steps}")
PY

printf 'this is not JSON {\n' >notjson.json
printf '{"format": "something-else", "version": 1, "stages": {}, "steps": {}}\n' >wrongformat.json
for f in notjson.json wrongformat.json; do
  "$bin" plan hist.toml --timings "$f" >out 2>err
  [ $? -eq 1 ] && ok || bad "plan --timings $f exits 1"
  grep -qF "reconcile: error: $f is not a timings file reconcile can read" err && ok ||
    bad "plan --timings $f says the file is not a timings file: $(cat err)"
  grep -q "^Rehearsed:" out && bad "plan --timings $f shows a rehearsal anyway: $(cat out)" || ok
done
"$bin" plan hist.toml --timings missing.json >out 2>err
[ $? -eq 1 ] && grep -qF "cannot read the timings file missing.json" err && ok ||
  bad "a missing timings file: $(cat err)"

# --- 4. plan (production, its journal empty): the lab's rehearsal, and the same from the file. ---
"$bin" plan hist.toml >plan.txt 2>err && ok || bad "plan: $(cat err)"
"$bin" plan hist.toml --timings t.json >plan_t.txt 2>err && ok || bad "plan --timings t.json: $(cat err)"
[ ! -e .reconcile/hist.journal ] && ok || bad "plan wrote no production journal"
py plan.txt plan_t.txt t.json hist.txt <<'PY'
import json, re, sys
from checks import *
doc = json.load(open(sys.argv[3]))
runs = history(open(sys.argv[4]).read())

def rehearsal(path):
    text = open(path).read()
    m = re.search(r"\nRehearsed: the lab runs, the last on (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \((.+)\): "
                  r"(\S+) in all\.\n"
                  r"((?:  .*\n)*)(?:Downtime: (\S+), from the stage marked downtime = \"starts\" to the end of the one "
                  r"marked \"ends\"\.\n)?", text)
    if not check(m, f"{path}: no 'Rehearsed: the lab runs, the last on ...' block: {text[-800:]}"):
        return None
    lines = [re.fullmatch(r"  (\S+) +(\S+(?: rehearsed)?)(?:  \(downtime (starts|ends)\))?", l)
             for l in m[4].rstrip("\n").split("\n")]
    check(all(lines), f"{path}: stage lines: {m[4]!r}")
    return dict(last=m[1], source=m[2], all=m[3], downtime=m[5], stages=[(l[1], l[2], l[3]) for l in lines if l])

plan, from_file = rehearsal(sys.argv[1]), rehearsal(sys.argv[2])
if plan:
    check(plan["source"] == ".reconcile/hist.lab.journal", f"the rehearsal's journal: {plan['source']}")
    if len(runs) == 3:
        check(runs[2]["start"] <= plan["last"], f"'the last on' is run 3's switch: {plan['last']}, {runs}")
    st = doc["stages"]
    check(plan["stages"] == [("prepare", fmt(st["prepare"]), None), ("switch", fmt(st["switch"]), "starts"),
                             ("verify", fmt(st["verify"]), "ends"), ("cleanup", "not rehearsed", None)],
          f"each stage's rehearsed time, in the spec's order, cleanup not rehearsed: {plan['stages']}")
    check(plan["all"] == fmt(sum(st.values())), f"the sum: {plan['all']} for {st}")
    check(plan["downtime"] == fmt(st["switch"] + st["verify"]), f"the downtime, switch and verify: {plan['downtime']}")
    # The same from the text alone: the downtime is the marked stages' times, within rounding.
    lo = sum(shown_ms(t)[0] for n, t, d in plan["stages"] if n in ("switch", "verify"))
    check(plan["downtime"] and within(plan["downtime"], lo, lo + 1998),
          f"downtime {plan['downtime']} vs {plan['stages']}")
    lo = sum(shown_ms(t)[0] for n, t, d in plan["stages"] if t != "not rehearsed")
    check(within(plan["all"], lo, lo + 2997), f"'in all' {plan['all']} vs {plan['stages']}")
if from_file:
    check(from_file["source"] == "t.json", f"plan --timings names the file: {from_file['source']}")
    check(plan and from_file["stages"] == plan["stages"] and from_file["all"] == plan["all"] and
          from_file["downtime"] == plan["downtime"], f"plan --timings shows the file's times: {from_file} vs {plan}")
PY

# --- 5. apply (production) on a terminal: the rehearsal before the question, the live line
# against it, and the note for command.stop (6 s here, 2 s in the lab) said once. ---
on_tty() {
  local answer=$1 out=$2
  shift 2
  local cmd
  printf -v cmd '%q ' "$@"
  (sleep 1; printf '%s\n' "$answer"; sleep 1) | TERM=xterm script -qefc "$cmd" /dev/null >"$out"
}
if ! command -v script >/dev/null; then
  bad "util-linux script is not installed (tests/install-deps.sh)"
else
  on_tty yes tty.out "$bin" apply hist.toml && ok || bad "apply on a terminal: $(cat -v tty.out)"
  tr -d '\r' <tty.out >tty.txt
  py tty.txt t.json <<'PY'
import json, re, sys
from checks import *
out = open(sys.argv[1], encoding="utf-8", errors="replace").read()
doc = json.load(open(sys.argv[2]))
rehearsed = out.find("\nRehearsed: the lab runs, the last on ")
question = out.find("Apply these changes? Only 'yes' is accepted.")
check(0 <= rehearsed < question, f"the rehearsal shows before the question ({rehearsed}, {question}): {out[:3000]}")
check(re.search(r"\n  cleanup +not rehearsed\n", out[rehearsed:question]), "the rehearsal before the question in full")
switch = fmt(doc["stages"]["switch"])
check(re.search(r"\[0/2\] switch \d+s of ~" + re.escape(switch) + r"(: |\x1b\[K)", out),
      f"the live line: switch's time against the rehearsed ~{switch}: {out[question:][:2000]!r}")
check(re.search(r"\[\d/2\] prepare \d+s of ~" + re.escape(fmt(doc["stages"]["prepare"])), out), "prepare's live line")
check(re.search(r"\[0/1\] cleanup \d+s(: |\x1b\[K)", out), "cleanup, never rehearsed, has no ' of ~'")
notes = re.findall(r"reconcile: note: (\S+) has run (\d+)s, over twice the (\S+) it took in the rehearsal", out)
check(notes == [("command.stop", notes[0][1] if notes else "", fmt(doc["steps"]["command.stop"]))],
      f"one note, for command.stop against its rehearsed time: {notes}")
check(notes and 5 <= int(notes[0][1]) <= 6, f"said once it has run 5 s: {notes}")
check(out.count("over twice") == 1, f"'over twice' said once: {out.count('over twice')}")
check("Apply complete through stage 'cleanup'" in out, "the apply completes")
PY
fi
"$bin" history hist.toml >prod.txt 2>err && ok || bad "history of production: $(cat err)"
py prod.txt "$who" <<'PY'
import sys
from checks import *
text = open(sys.argv[1]).read()
check(text.startswith("hist: 1 run in .reconcile/hist.journal (times UTC)\n"), f"production's own journal: {text}")
runs = history(text)
check([(r["op"], r["to"], r["who"], r["env"], r["result"]) for r in runs] ==
      [("apply", "cleanup", sys.argv[2], None, "ok")],
      f"the production apply, without --env: {runs}")
stop = [p for r in runs for s in r["stages"] for p in s["steps"] if p["address"] == "command.stop"]
check(stop and within(stop[0]["took"], 6000, 7500), f"production's command.stop slept 6 s: {stop}")
PY

# --- 6. history --format html: an SVG per run that agrees with the text. ---
"$bin" history hist.toml --env lab --format html >hist.html 2>err && ok || bad "history --format html: $(cat err)"
py hist.html hist.txt <<'PY'
import re, sys
import xml.etree.ElementTree as ET
from checks import *
html = open(sys.argv[1]).read()
runs = history(open(sys.argv[2]).read())
NS = "{http://www.w3.org/2000/svg}"
svgs = []
for chunk in re.findall(r"<svg\b.*?</svg>", html, re.S):
    try:
        svgs.append(ET.fromstring(chunk))
    except ET.ParseError as e:
        check(False, f"an <svg> is not well-formed XML: {e}: {chunk[:300]}")
check(html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>"), "a page of its own")
check(len(svgs) == 3 and all(s.get("class") == "run" for s in svgs), f"one <svg class=run> per run: {len(svgs)}")
check([(s.get("data-op"), s.get("data-result")) for s in svgs] == [(r["op"], r["result"]) for r in runs],
      f"data-op/data-result as the text's runs: {[s.attrib for s in svgs]}")
check("<script" not in html.lower(), "no JavaScript")

def num(v):
    return float(v)

for i, (svg, run) in enumerate(zip(svgs, runs), 1):
    width = num(svg.get("width"))
    groups = [g for g in svg.iter(NS + "g")]
    stage_gs = [g for g in groups if g.get("class", "").split()[:1] == ["stage"]]
    step_gs = [g for g in groups if g.get("class", "").split()[:1] == ["step"]]
    check([g.get("data-stage") for g in stage_gs] == [s["name"] for s in run["stages"]],
          f"run {i}: a g.stage per stage: {[g.attrib for g in stage_gs]}")
    check([g.get("data-address") for g in step_gs] == [p["address"] for s in run["stages"] for p in s["steps"]],
          f"run {i}: a g.step per step with data-address: {[g.attrib for g in step_gs]}")
    for g, s in zip(stage_gs, run["stages"]):
        ms = int(g.get("data-ms", "-1"))
        check(within(s["took"], ms, ms), f"run {i}: stage {s['name']} data-ms {ms} vs the text's {s['took']}")
        check(("complete" in g.get("class").split()) == s["complete"], f"run {i}: {g.attrib} complete as the text")
    for g, p in zip(step_gs, [p for s in run["stages"] for p in s["steps"]]):
        ms = int(g.get("data-ms", "-1"))
        check(within(p["took"], ms, ms), f"run {i}: step {p['address']} data-ms {ms} vs the text's {p['took']}")
        cls = g.get("class")
        rect = g.find(NS + "rect")
        if p["status"] == "FAILED":
            check(cls == "step failed" and rect is not None and rect.get("class") == "step failed",
                  f"run {i}: the failed step is 'step failed': {g.attrib}")
            title = g.findtext(NS + "title") or ""
            check("FAILED" in title and "the new site answers 503" in title, f"the failed step's tooltip: {title}")
        else:
            check(cls == "step " + {"+": "create", "-": "delete"}[p["sym"]], f"run {i}: {p['address']}'s class: {cls}")
    # Every bar inside the picture, and longer times drawn longer.
    bars = []
    for g in stage_gs + step_gs:
        rect = g.find(NS + "rect")
        if not check(rect is not None, f"run {i}: {g.attrib} has a rect"):
            continue
        x, w = num(rect.get("x")), num(rect.get("width"))
        check(0 <= x and w > 0 and x + w <= width, f"run {i}: {g.attrib}: x={x} width={w} outside 0..{width}")
        bars.append((int(g.get("data-ms")), w, g.get("data-stage") or g.get("data-address")))
    for a in bars:
        for b in bars:
            if a[0] > b[0] + 100:
                check(a[1] > b[1],
                      f"run {i}: {a[2]} ({a[0]} ms) drawn no wider than {b[2]} ({b[0]} ms): {a[1]} <= {b[1]}")
    for t in svg.iter(NS + "text"):
        check(0 <= num(t.get("x")) <= width, f"run {i}: a label outside the picture: {t.attrib} {t.text}")
    # The time axis: each tick where its label says, on the bars' scale; the labels left of it
    # (12px monospace: at most 7.3px a character).
    ticks = []
    for t in svg.iter(NS + "text"):
        if t.get("class") == "axis":
            m = re.fullmatch(r"(\d+)ms|(\d+(?:\.\d)?)s|(\d+)m(?:(\d+)s)?", t.text or "")
            if check(m, f"run {i}: a tick's label: {t.text!r}"):
                ms = int(m[1]) if m[1] else float(m[2]) * 1000 if m[2] else (int(m[3]) * 60 + int(m[4] or 0)) * 1000
                ticks.append((ms, num(t.get("x")), t.text))
    check(len(ticks) >= 3 and ticks[0][0] == 0, f"run {i}: an axis from 0: {ticks}")
    if len(ticks) >= 2:
        x0, scale = ticks[0][1], (ticks[-1][1] - ticks[0][1]) / ticks[-1][0]
        check(all(abs(x - x0 - ms * scale) <= 1 for ms, x, _ in ticks),
              f"run {i}: ticks where their labels say: {ticks}")
        longest = max(bars, default=(0, 0, ""))
        if longest[0] >= 500:
            check(abs(longest[1] / longest[0] / scale - 1) < 0.02,
                  f"run {i}: the axis on the bars' scale: {longest} {ticks}")
        for t in svg.iter(NS + "text"):
            if "label" in t.get("class", "").split():
                end = num(t.get("x")) + 7.3 * len(t.text or "")
                check(end <= x0, f"run {i}: the label {t.text!r} runs into the chart: {end:.0f} > {x0}")
if len(svgs) == 3:
    w = {g.get("data-address"): num(g.find(NS + "rect").get("width"))
         for g in svgs[0].iter(NS + "g") if g.get("data-address")}
    check(w.get("command.stop", 0) > 1.5 * w.get(FLIP, 1e9),
          f"run 1: the 2 s step's bar is wider than the 1 s one's: {w}")
PY

# --- 7. The picture: Chromium draws the page; a person can look at history_test.png. ---
png=$(cd "$(dirname "$bin")" && pwd)/history_test.png
chromium=$(command -v chromium || command -v chromium-browser)
if [ -z "$chromium" ]; then
  bad "chromium is not installed (tests/install-deps.sh)"
else
  mkdir -p chrome/home
  HOME=$work/chrome/home XDG_CONFIG_HOME=$work/chrome/home XDG_CACHE_HOME=$work/chrome/home \
    timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$work/chrome/profile" --no-first-run --disable-dev-shm-usage \
    --screenshot="$work/history.png" --window-size=1100,1400 "file://$work/hist.html" >chrome.log 2>&1
  [ -s history.png ] && ok || bad "chromium wrote no screenshot: $(tail -5 chrome.log)"
  py history.png <<'PY'
import struct, sys, zlib
from checks import *
data = open(sys.argv[1], "rb").read()
if not check(data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG"):
    raise SystemExit
chunks, pos = [], 8
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    chunks.append((kind, data[pos + 8:pos + 8 + n]))
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
check(chunks[0][0] == b"IHDR" and (w, h) == (1100, 1400), f"the window's size: {w}x{h}")
if not check(depth == 8 and ctype in (2, 6) and interlace == 0,
             f"8-bit RGB(A), not interlaced: {depth} {ctype} {interlace}"):
    raise SystemExit
raw = zlib.decompress(b"".join(c for k, c in chunks if k == b"IDAT"))
bpp = 3 if ctype == 2 else 4
stride = w * bpp
counts, prev, pos = {}, bytearray(stride), 0
for y in range(h):
    kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
    pos += 1 + stride
    if kind == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif kind == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif kind == 3:
        for i in range(stride):
            line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
    elif kind == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        counts[px] = counts.get(px, 0) + 1

def near(rgb, slack=3):
    return sum(n for px, n in counts.items() if all(abs(a - b) <= slack for a, b in zip(px, rgb)))

white = counts.get(b"\xff\xff\xff", 0)
check(len(counts) >= 20 and white < 0.97 * w * h, f"not blank: {len(counts)} colours, {white} of {w * h} white")
# More than the legend's 12x12 swatch of each: the stage bands and the failed step's bar.
green, red = near((0x8f, 0xbf, 0x7f)), near((0xd6, 0x2c, 0x1f))
check(green > 3000, f"the green of complete stages (#8fbf7f): {green} pixels")
check(red > 500, f"the red of the failed step (#d62c1f): {red} pixels")
check(near((0xf0, 0xb6, 0x6e)) > 144, "the orange of the rollback")
PY
  cp history.png "$png" && echo "history_test: the history page as Chromium draws it: $png"
fi

# --- 8. The secret the spec takes from the environment shows in none of it. ---
for f in hist.txt t.json hist.html prod.txt plan.txt plan_t.txt tty.out lab1.out lab1.err lab3.out lab3.err \
  .reconcile/hist.lab.journal .reconcile/hist.journal; do
  if [ ! -e "$f" ]; then
    bad "no $f to look for the secret in"
  elif grep -qaF -- "$HISTORY_SECRET" "$f"; then
    bad "the secret shows in $f"
  else
    ok
  fi
done

echo "history_test: $(($(date +%s) - started_at)) s"
finish
