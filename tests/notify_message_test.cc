// What a run tells its webhook ([notify]): every event still reaches the printer the notifier
// wraps; only the events the spec lists are sent; a check is said failing once; a failed stage
// names its first failure as the console says it; json messages are the --json objects; and the webhook
// is only ever named by its scheme and host.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "engine/notify/notifier.h"

using namespace reconcile;
using std::chrono::milliseconds;

namespace {

struct Printer : Progress {
  std::vector<std::string> seen;
  void StageStarted(const std::string& s, std::size_t) override { seen.push_back("stage " + s); }
  void StageFinished(const std::string& s, const StageOutcome&) override { seen.push_back("end " + s); }
  void StepStarted(const std::string& a, Action) override { seen.push_back("start " + a); }
  void StepFinished(const std::string& a, Action, const std::string&, milliseconds) override {
    seen.push_back("finish " + a);
  }
  void CheckWaiting(const std::string& a, const std::string&, milliseconds, milliseconds) override {
    seen.push_back("wait " + a);
  }
  void Note(const std::string& line) override { seen.push_back("note " + line); }
};

NotifySpec Settings(std::vector<std::string> events = DefaultNotifyEvents(), std::string format = "slack") {
  NotifySpec n;
  n.events = std::move(events);
  n.format = std::move(format);
  n.check_failing_after = milliseconds(2000);
  return n;
}

// The "text" of each message sent.
std::vector<std::string> Texts(const std::vector<std::string>& bodies) {
  std::vector<std::string> out;
  for (const std::string& b : bodies) out.push_back(nlohmann::json::parse(b).at("text"));
  return out;
}

StageOutcome Outcome(bool complete, std::size_t failed = 0) {
  StageOutcome o;
  o.complete = complete;
  o.failed = failed;
  return o;
}

}  // namespace

TEST_CASE("the notifier forwards every event and sends the stages' ends") {
  Printer printer;
  std::vector<std::string> sent;
  Notifier n(printer, Settings(), "launch", "apply", [&](std::string b) { sent.push_back(std::move(b)); });
  n.StageStarted("switch", 2);
  n.StepStarted("dns_record.www", Action::kUpdate);
  n.StepFinished("dns_record.www", Action::kUpdate, "dns_record.www: SERVFAIL from ns1\n1\n2\n3\n4\n5\n",
                 milliseconds(3));
  n.StepFinished("file.a", Action::kCreate, "later failure", milliseconds(3));
  n.CheckWaiting("check.smoke", "HTTP 503", milliseconds(10), milliseconds(1000));
  n.Note("stage switch waits 50s");
  n.StageFinished("switch", Outcome(false, 2));
  CHECK(printer.seen == std::vector<std::string>{"stage switch", "start dns_record.www", "finish dns_record.www",
                                                 "finish file.a", "wait check.smoke", "note stage switch waits 50s",
                                                 "end switch"});
  // stage_started is not sent by default.
  // Its address said once, and a long error cut short.
  CHECK(Texts(sent) ==
        std::vector<std::string>{"*launch*: stage switch FAILED: dns_record.www: SERVFAIL from ns1\n1\n2\n3\n4\n..."});
}

TEST_CASE("a check failing past check_failing_after is said once") {
  Printer printer;
  std::vector<std::string> sent;
  Notifier n(printer, Settings(), "launch", "apply", [&](std::string b) { sent.push_back(std::move(b)); });
  n.CheckWaiting("check.smoke", "HTTP 503", milliseconds(1000), milliseconds(60000));
  CHECK(sent.empty());
  n.CheckWaiting("check.smoke", "HTTP 503", milliseconds(120000), milliseconds(600000));
  n.CheckWaiting("check.smoke", "HTTP 502", milliseconds(125000), milliseconds(600000));
  n.CheckWaiting("check.other", "closed", milliseconds(3000), milliseconds(600000));
  CHECK(Texts(sent) == std::vector<std::string>{"*launch*: check.smoke not holding for 2m: HTTP 503",
                                                "*launch*: check.other not holding for 3s: closed"});
}

TEST_CASE("only the events listed are sent, and a run's start and end say what it did") {
  Printer printer;
  std::vector<std::string> sent;
  Notifier n(printer, Settings({"stage_started", "apply_complete"}), "launch", "apply",
             [&](std::string b) { sent.push_back(std::move(b)); });
  n.RunStarted({{"op", "apply"}, {"spec", "launch.toml"}, {"env", "lab"}, {"through", "switch"}});
  n.ConfirmWaiting("switch", "DNS moves");
  n.StageStarted("switch", 1);
  n.StageFinished("switch", Outcome(true));
  n.RunFinished({{"op", "apply"}, {"result", "ok"}}, "1 updated, in 4s");
  CHECK(Texts(sent) ==
        std::vector<std::string>{"*launch* (lab): stage switch started: 1 step",
                                 "*launch* (lab): apply complete through stage switch: 1 updated, in 4s"});
}

TEST_CASE("a rollback sends its own start and end, not a stage's") {
  Printer printer;
  std::vector<std::string> sent;
  Notifier n(printer, Settings(), "launch", "rollback", [&](std::string b) { sent.push_back(std::move(b)); });
  n.RunStarted({{"op", "rollback"}, {"env", ""}, {"to", "cutover"}});
  n.StageStarted("rollback to cutover", 4);
  n.StageFinished("rollback to cutover", Outcome(true));
  n.RunFinished({{"op", "rollback"}, {"result", "failed"}, {"error", "the journal is locked:\n  by x"}}, "1 deleted");
  std::vector<std::string> texts = Texts(sent);
  REQUIRE(texts.size() == 2);
  CHECK(texts[0].rfind("*launch*: rollback to cutover started by ", 0) == 0);
  CHECK(texts[1] == "*launch*: rollback to cutover FAILED: the journal is locked (done before it stopped: 1 deleted)");
}

TEST_CASE("json messages are the --json objects, with the event's name here, the spec's and the text") {
  Printer printer;
  std::vector<std::string> sent;
  Notifier n(printer, Settings(NotifyEvents(), "json"), "launch", "apply",
             [&](std::string b) { sent.push_back(std::move(b)); });
  StageOutcome failed = Outcome(false, 1);
  failed.not_run = 2;
  n.StageFinished("switch", failed);
  REQUIRE(sent.size() == 1);
  nlohmann::ordered_json body = nlohmann::ordered_json::parse(sent[0]);
  std::vector<std::string> keys;
  for (auto& [k, v] : body.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"event", "time", "complete", "failed", "interrupted", "not_run", "stage",
                                         "notify", "spec_name", "text"});
  CHECK(body["event"] == "stage_finished");
  CHECK(body["notify"] == "stage_failed");
  CHECK(body["spec_name"] == "launch");
  CHECK(body["text"] == "*launch*: stage switch FAILED: 1 failed, 2 not run");
}

TEST_CASE("slack text escapes what Slack reads as markup") { CHECK(SlackEscape("a <b> & c") == "a &lt;b&gt; &amp; c"); }

TEST_CASE("the webhook is named by its scheme and host only") {
  CHECK(WebhookOrigin("https://hooks.slack.com/services/T0/B0/secret") == "https://hooks.slack.com");
  CHECK(WebhookOrigin("https://user:pw@chat.example.org:8065/hooks/abc?x=1") == "https://chat.example.org:8065");
  CHECK(WebhookOrigin("http://127.0.0.1:9000?token=x") == "http://127.0.0.1:9000");
  CHECK(WebhookOrigin("hooks.example.com/secret") == "the URL given");
}
