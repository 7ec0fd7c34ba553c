// [notify]: the webhook a run's milestones go to, its format, which events, and how long a
// check may fail before it is said. The webhook is a secret even when written out (a Slack
// URL's path is its token), so no error shows its line.
#include <algorithm>

#include "engine/duration.h"
#include "engine/spec/loader_internal.h"

namespace reconcile {

namespace {

const std::vector<std::string> kFormats = {"slack", "json"};

// scheme://host, then anything: enough to tell a URL from a typo without showing the rest.
bool LooksLikeWebUrl(const std::string& s) {
  for (const char* scheme : {"https://", "http://"}) {
    std::size_t n = std::char_traits<char>::length(scheme);
    if (s.compare(0, n, scheme) == 0) return s.size() > n && s[n] != '/' && s[n] != '?' && s[n] != '#';
  }
  return false;
}

}  // namespace

bool NotifySpec::Wants(const std::string& event) const {
  return std::find(events.begin(), events.end(), event) != events.end();
}

const std::vector<std::string>& NotifyEvents() {
  static const std::vector<std::string> events = {
      "apply_started",  "stage_started", "stage_complete",   "stage_failed",      "confirm_waiting", "check_failing",
      "apply_complete", "apply_failed",  "rollback_started", "rollback_complete", "rollback_failed"};
  return events;
}

const std::vector<std::string>& DefaultNotifyEvents() {
  static const std::vector<std::string> events = [] {
    std::vector<std::string> all = NotifyEvents();
    all.erase(std::find(all.begin(), all.end(), "stage_started"));
    return all;
  }();
  return events;
}

const std::vector<AttrSchema>& NotifyKeys() {
  static const std::vector<AttrSchema> keys = {
      // clang-format off
      {.name = "webhook", .type = AttrType::kString, .required = true, .sensitive = true, .secret_ok = true,
       .doc = "where messages are POSTed: an http(s) URL, or (better: the URL is itself a secret, a Slack "
              "webhook's path is its token) env:NAME or file:PATH holding one. Never shown, logged or "
              "journaled; a failure names it by scheme://host"},
      {.name = "format", .type = AttrType::kString, .one_of = kFormats, .default_value = "slack",
       .doc = "slack: {\"text\": \"…\"}, a short sentence, for Slack's and Mattermost's incoming webhooks; "
              "json: the event object apply --json writes (docs/json-events.md) with `notify` (the event's "
              "name here), `spec_name` and `text` added"},
      {.name = "events", .type = AttrType::kStringList,
       .one_of = NotifyEvents(),
       .default_value = [] {
         std::string all;
         for (const std::string& e : DefaultNotifyEvents()) all += (all.empty() ? "" : " ") + e;
         return all;
       }(),
       .doc = "what is sent: apply_started, stage_started, stage_complete, stage_failed (a step or check of "
              "the stage failed, or it was interrupted), confirm_waiting (a stage's confirm is asked, sent "
              "before the prompt), check_failing (a check still not holding after check_failing_after, once "
              "per check), apply_complete, apply_failed (failed, stopped or interrupted, for any reason), "
              "rollback_started, rollback_complete, rollback_failed. [] sends nothing (an overlay for a "
              "rehearsal)"},
      {.name = "check_failing_after", .type = AttrType::kDuration, .default_value = "2m",
       .doc = "how long a check may go on not holding before check_failing is sent"},
      // clang-format on
  };
  return keys;
}

void Loader::ReadNotify(const toml::node& node) {
  const toml::table* t = node.as_table();
  if (!t) {
    ErrHidingLine(Loc(node), "'notify' must be a table [notify] with webhook = \"env:NAME\"");
    return;
  }
  const toml::table& table = *t;
  NotifySpec n;
  n.loc = Loc(table);
  n.events = DefaultNotifyEvents();
  std::vector<std::string> names;
  for (const AttrSchema& a : NotifyKeys()) names.push_back(a.name);
  bool has_webhook = false;
  for (auto& [k, v] : table) {
    std::string key(k.str());
    std::string what = "'" + key + "' of [notify]";
    if (key == "webhook") {
      has_webhook = true;
      AttrSchema a{key, AttrType::kString};
      a.secret_ok = true;
      SpecValue sv;
      if (!ReadValue(v, a, what, "", &sv)) continue;
      n.webhook = std::get<std::string>(sv.value);
      n.webhook_secret = sv.secret;
      n.webhook_loc = sv.loc;
      if (!sv.secret && !LooksLikeWebUrl(n.webhook)) {
        ErrHidingLine(sv.loc, what + " must be an https:// (or http://) URL, or env:NAME or file:PATH holding one",
                      "write webhook = \"env:SLACK_WEBHOOK\" and export the URL there: it is a secret");
        n.webhook.clear();
      }
    } else if (key == "format") {
      if (!ReadString(v, what, &n.format)) continue;
      if (std::find(kFormats.begin(), kFormats.end(), n.format) == kFormats.end())
        Err(Loc(v), what +
                        " must be \"slack\" (Slack and Mattermost incoming webhooks) or \"json\" (the --json "
                        "event objects), not \"" +
                        n.format + "\"" + DidYouMean(n.format, kFormats));
    } else if (key == "events") {
      const toml::array* arr = v.as_array();
      if (!arr) {
        Err(Loc(v), what + " must be a list of events, e.g. [\"stage_failed\", \"apply_complete\"]");
        continue;
      }
      n.events.clear();
      for (const toml::node& e : *arr) {
        std::string event;
        if (!ReadString(e, "each item of " + what, &event)) continue;
        const std::vector<std::string>& all = NotifyEvents();
        if (std::find(all.begin(), all.end(), event) == all.end()) {
          std::string list;
          for (const std::string& x : all) list += (list.empty() ? "" : ", ") + x;
          Err(Loc(e), "unknown event '" + event + "' in " + what + DidYouMean(event, all), "the events are " + list);
          continue;
        }
        if (!n.Wants(event)) n.events.push_back(event);
      }
    } else if (key == "check_failing_after") {
      std::string text;
      if (!ReadString(v, what, &text)) continue;
      if (std::string why = DurationError(text); !why.empty()) Err(Loc(v), what + why);
      else n.check_failing_after = *ParseDuration(text);
    } else {
      // Not UnknownKey: a misspelt `webhook` holds the URL, and its line is not shown.
      ErrHidingLine(Loc(k), "unknown key '" + key + "' in [notify]" + DidYouMean(key, names));
    }
  }
  if (!has_webhook)
    Err(n.loc, "[notify] has no 'webhook'",
        "add webhook = \"env:SLACK_WEBHOOK\" (the URL, exported under that name), or remove [notify]");
  spec_->notify = std::move(n);
}

}  // namespace reconcile
