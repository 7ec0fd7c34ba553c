#include "engine/cli/session.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <set>

namespace reconcile {

void Fail(const std::string& message) { std::cerr << "reconcile: error: " << message << "\n"; }

bool Confirm(const std::string& question) {
  if (!::isatty(STDIN_FILENO)) return false;
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

std::unique_ptr<Session> OpenSession(const Registry& registry, const CommonOptions& common, bool with_journal) {
  auto session = std::make_unique<Session>();
  LoadOptions options;
  options.env = common.env;
  for (const std::string& kv : common.vars) {
    std::size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      Fail("--var takes NAME=VALUE, got '" + kv + "'");
      return nullptr;
    }
    options.vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  session->load = LoadSpec(common.spec, options, registry);
  if (session->load.spec) session->graph.Build(*session->load.spec, &session->load.diags);
  if (!session->load.diags.empty()) {
    std::cerr << session->load.diags.Render(*session->load.sources);
    std::size_t n = session->load.diags.size();
    std::cerr << "reconcile: " << n << (n == 1 ? " error" : " errors") << " in the spec; nothing was probed or changed.\n";
    return nullptr;
  }
  if (!with_journal) return session;
  const Spec& spec = session->spec();
  if (spec.state_key) {
    auto key = ResolveSecret(std::get<std::string>(spec.state_key->value), spec.dir);
    if (!key) {
      Fail(spec.state_key->loc.ToString() + ": 'key' of [state]: " + key.error().message);
      return nullptr;
    }
    session->sealer = Sealer(*key);
  }
  if (spec.state_url) {
    auto url = spec.state_url->secret ? ResolveSecret(std::get<std::string>(spec.state_url->value), spec.dir)
                                      : Result<std::string>(std::get<std::string>(spec.state_url->value));
    if (!url) {
      Fail(spec.state_url->loc.ToString() + ": 'url' of [state]: " + url.error().message);
      return nullptr;
    }
    std::string password;
    if (spec.state_password) {
      auto pw = ResolveSecret(std::get<std::string>(spec.state_password->value), spec.dir);
      if (!pw) {
        Fail(spec.state_password->loc.ToString() + ": 'password' of [state]: " + pw.error().message);
        return nullptr;
      }
      password = *pw;
    }
    session->journal = OpenPgJournal(*url, password, spec.name);
  } else {
    session->journal = OpenFileJournal(spec.state_path);
  }
  if (!RefreshHistory(session.get())) return nullptr;
  return session;
}

bool RefreshHistory(Session* session) {
  auto records = session->journal->Read();
  if (!records) {
    Fail(records.error().message);
    return false;
  }
  session->history = Summarize(*records);
  // One salt a journal: the key is derived once a run, not once for each run it reads back.
  if (session->sealer.keeps_secrets())
    for (auto r = records->rbegin(); r != records->rend(); ++r)
      if (auto salt = Sealer::SaltIn(r->data)) {
        session->sealer.AdoptSalt(*salt);
        break;
      }
  return true;
}

bool CloseFinishedSteps(Session* session) {
  const Spec& spec = session->spec();
  std::vector<std::optional<State>> want(spec.resources.size());
  std::vector<const PendingStep*> pending_of(spec.resources.size(), nullptr);
  for (const PendingStep& p : session->history.pending) {
    const Resource* r = spec.Find(p.address);
    if (!r || r->schema->is_check) continue;
    std::set<std::string> unknown;
    auto desired = session->sealer.Open(p.desired, &unknown);
    if (!desired || !unknown.empty()) continue;  // a secret that was not kept: cannot tell
    std::size_t i = spec.by_address.at(p.address);
    want[i] = std::move(*desired);
    pending_of[i] = &p;
  }
  if (std::none_of(pending_of.begin(), pending_of.end(), [](const PendingStep* p) { return p != nullptr; }))
    return true;
  // A probe that fails here is not this step's business: the run's own plan says why.
  auto probed = ProbeResources(spec, want);
  if (!probed) return true;
  std::vector<JournalRecord> closed;
  for (std::size_t i = 0; i < spec.resources.size(); ++i) {
    const PendingStep* p = pending_of[i];
    if (!p || CompareResource(spec.resources[i], (*probed)[i], *want[i]).action != Action::kNone) continue;
    closed.push_back({0, "", "done",
                      {{"op", p->op}, {"stage", p->stage}, {"address", p->address}, {"state", p->desired},
                       {"closes", p->seq}}});
    std::cerr << "reconcile: " << p->address << " (" << p->op << " " << p->action << ", stage " << p->stage
              << ") was cut off at " << p->at << " but the world shows it done; recorded as done\n";
  }
  if (closed.empty()) return true;
  if (Status s = session->journal->AppendAll(&closed); !s) {
    Fail(s.message());
    return false;
  }
  return RefreshHistory(session);
}

}  // namespace reconcile
