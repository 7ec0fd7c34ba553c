#include "providers/aws/aws_types.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

namespace reconcile::aws {

namespace {

// What reconcile manages of an instance, as RDS names it: the DBInstance element of an answer
// and the CreateDBInstance parameter, which ModifyDBInstance takes too unless it is fixed.
struct Field {
  const char* attr;
  const char* rds;
  AttrType type;
  bool fixed;  // set when made, never changed
};
// clang-format off
const Field kFields[] = {
    {"engine", "Engine", AttrType::kString, true},
    {"engine_version", "EngineVersion", AttrType::kString, false},
    {"instance_class", "DBInstanceClass", AttrType::kString, false},
    {"allocated_storage", "AllocatedStorage", AttrType::kInt, false},
    {"publicly_accessible", "PubliclyAccessible", AttrType::kBool, false},
    {"deletion_protection", "DeletionProtection", AttrType::kBool, false},
    {"backup_retention_days", "BackupRetentionPeriod", AttrType::kInt, false},
    {"master_username", "MasterUsername", AttrType::kString, true},
};
// clang-format on

struct Instance {
  pugi::xml_document doc;  // owns `node`
  pugi::xml_node node;
  std::string status;
};

Result<std::optional<Instance>> Describe(QueryClient& rds, const std::string& id) {
  auto xml = rds.Call("DescribeDBInstances", {{"DBInstanceIdentifier", id}});
  if (!xml) {
    if (xml.error().code == ErrorCode::kNotFound) return std::optional<Instance>();
    return xml.error();
  }
  std::optional<Instance> out(std::in_place);
  if (Status s = ParseAnswer(*xml, "rds DescribeDBInstances", &out->doc); !s) return s.error();
  for (pugi::xpath_node n : out->doc.select_nodes("//*[local-name()='DBInstance']")) {
    if (n.node().child_value("DBInstanceIdentifier") != id) continue;
    out->node = n.node();
    out->status = n.node().child_value("DBInstanceStatus");
    return out;
  }
  return std::optional<Instance>();
}

// Only what `wanted` names (the spec, or a rollback's target): what the spec leaves unsaid is
// not reconcile's, so a rollback never puts back a class or storage someone changed since.
State StateOf(const std::string& id, const std::optional<Instance>& in, const AttrMap& wanted) {
  State st{false, {{"identifier", id}}};
  if (!in) return st;
  st.exists = true;
  for (const Field& f : kFields) {
    if (!wanted.count(f.attr)) continue;
    std::string text = in->node.child_value(f.rds);
    switch (f.type) {
      case AttrType::kBool:
        st.attrs[f.attr] = text == "true";  // RDS leaves PubliclyAccessible out when false
        break;
      case AttrType::kInt:
        st.attrs[f.attr] = static_cast<std::int64_t>(std::atoll(text.c_str()));
        break;
      default:
        st.attrs[f.attr] = text;
    }
  }
  // Computed, whatever the spec names: what others refer to (${rds_instance.db.address}).
  // RDS gives the endpoint once the instance is made, not while it is being created.
  pugi::xml_node endpoint = in->node.child("Endpoint");
  if (std::string address = endpoint.child_value("Address"); !address.empty()) st.attrs["address"] = address;
  if (std::string port = endpoint.child_value("Port"); !port.empty())
    st.attrs["port"] = static_cast<std::int64_t>(std::atoll(port.c_str()));
  if (wanted.count("security_groups")) {
    StringList groups;
    for (pugi::xml_node m : in->node.child("VpcSecurityGroups").children())
      groups.push_back(m.child_value("VpcSecurityGroupId"));
    std::sort(groups.begin(), groups.end());
    st.attrs["security_groups"] = groups;
  }
  return st;
}

// The parameters that set `attrs` (all of them for a create; the changed ones for a modify).
Params ParamsFor(const AttrMap& desired, const std::vector<std::string>& attrs, bool create) {
  Params p;
  for (const Field& f : kFields) {
    if (std::find(attrs.begin(), attrs.end(), f.attr) == attrs.end() || !desired.count(f.attr)) continue;
    if (!create && f.fixed) continue;
    const Value& v = desired.at(f.attr);
    std::string param = f.rds;
    if (auto* b = std::get_if<bool>(&v)) p.push_back({param, *b ? "true" : "false"});
    else if (auto* i = std::get_if<std::int64_t>(&v)) p.push_back({param, std::to_string(*i)});
    else p.push_back({param, StringAttr(desired, f.attr)});
  }
  if (std::find(attrs.begin(), attrs.end(), "security_groups") != attrs.end() && desired.count("security_groups")) {
    StringList groups = ListAttr(desired, "security_groups");
    for (std::size_t i = 0; i < groups.size(); ++i)
      p.push_back({"VpcSecurityGroupIds.VpcSecurityGroupId." + std::to_string(i + 1), groups[i]});
  }
  if (std::find(attrs.begin(), attrs.end(), "master_password") != attrs.end() && desired.count("master_password"))
    p.push_back({"MasterUserPassword", StringAttr(desired, "master_password")});
  return p;
}

// Polls until the instance is `available` again (or gone, for a delete), saying each new
// status. RDS takes minutes for most changes; a failed poll in a long wait is retried.
Result<std::optional<Instance>> WaitFor(QueryClient& rds, const Change& change, const std::string& id, bool gone) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(2);
  std::string said;
  int misses = 0;
  auto pause = std::chrono::seconds(2);
  for (;;) {
    auto in = Describe(rds, id);
    if (!in) {
      if (++misses >= 5) return in.error();
    } else {
      misses = 0;
      if (gone && !*in) return in;
      if (!gone && !*in) return Error{id + " was asked for and is not listed"};
      const std::string& status = (*in)->status;
      // RDS answers "available" for a moment after a modify, before it starts: done is
      // available with nothing pending.
      bool pending = (*in)->node.child("PendingModifiedValues").first_child();
      if (!gone && status == "available" && !pending) return in;
      if (status == "failed" || status == "incompatible-parameters" || status == "storage-full")
        return Error{"the instance " + id + " is " + status};
      std::string now = status + (pending ? " (changes pending)" : "");
      if (now != said && change.report) change.report("RDS says " + now);
      said = now;
    }
    if (std::chrono::steady_clock::now() > deadline)
      return Error{"the instance " + id + " is still " + said + " after 2 hours"};
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::seconds(30));
  }
}

std::string FinalSnapshotName(const std::string& id) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", std::gmtime(&now));
  return id + "-final-" + stamp;
}

}  // namespace

TypeSchema RdsInstanceType() {
  return {
      .name = "rds_instance",
      .doc =
          "An RDS DB instance: made, changed (with ApplyImmediately; apply waits until it is available again) "
          "and deleted (with a final snapshot unless skip_final_snapshot). Attributes left out are not managed.",
      .attrs =
          {
              // clang-format off
              {.name = "identifier", .type = AttrType::kString, .required = true, .identity = true,
               .check = RdsIdentifierCheck, .doc = "the DB instance identifier"},
              {.name = "engine", .type = AttrType::kString, .doc = "\"postgres\", \"mysql\", …; cannot change once made"},
              {.name = "engine_version", .type = AttrType::kString,
               .doc = "e.g. \"15.4\"; \"15\" is satisfied by any 15.x"},
              {.name = "instance_class", .type = AttrType::kString, .doc = "e.g. \"db.t3.micro\""},
              {.name = "allocated_storage", .type = AttrType::kInt, .doc = "storage in GiB (it can only grow)"},
              {.name = "publicly_accessible", .type = AttrType::kBool,
               .doc = "whether the endpoint resolves to a public address"},
              {.name = "security_groups", .type = AttrType::kStringList, .unordered = true,
               .doc = "the VPC security group ids, compared as a set"},
              {.name = "deletion_protection", .type = AttrType::kBool,
               .doc = "whether RDS refuses to delete it (turn it off in an earlier stage than a delete)"},
              {.name = "backup_retention_days", .type = AttrType::kInt,
               .doc = "days automated backups are kept (0 turns them off)"},
              {.name = "master_username", .type = AttrType::kString, .doc = "the master user; cannot change once made"},
              {.name = "master_password", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
               .write_only = true,
               .doc = "the master password (env:NAME or file:PATH). AWS never returns it: reconcile takes it to be "
                      "what it last set, so a change made outside reconcile is not seen; a rollback puts back the "
                      "one reconcile set before (kept in the journal with a [state] key)"},
              {.name = "address", .type = AttrType::kString, .computed = true,
               .doc = "the endpoint's DNS name, as RDS gives it once the instance is made: refer to it as "
                      "${rds_instance.NAME.address}"},
              {.name = "port", .type = AttrType::kInt, .computed = true,
               .doc = "the endpoint's port: ${rds_instance.NAME.port}"},
              {.name = "skip_final_snapshot", .type = AttrType::kBool, .setting = true, .default_value = "false",
               .doc = "delete it without a final snapshot: its data is gone for good"},
              // clang-format on
          },
      .provider_kind = "aws",
  };
}

Result<State> ProbeRdsInstance(QueryClient& rds, const Target& t) {
  std::string id = StringAttr(t.desired, "identifier");
  auto in = Describe(rds, id);
  if (!in) return Error{in.error().message, in.error().code};
  // Being deleted is gone, as far as a plan goes: a create after it waits for RDS.
  if (*in && (*in)->status == "deleting") return StateOf(id, std::nullopt, t.desired);
  return StateOf(id, *in, t.desired);
}

Result<State> ApplyRdsInstance(QueryClient& rds, const Change& change) {
  const Target& t = change.target;
  const AttrMap& d = t.desired;
  std::string id = StringAttr(d, "identifier");
  if (change.action == Action::kDelete) {
    Params p = {{"DBInstanceIdentifier", id}};
    if (BoolAttr(d, "skip_final_snapshot").value_or(false)) p.push_back({"SkipFinalSnapshot", "true"});
    else p.push_back({"FinalDBSnapshotIdentifier", FinalSnapshotName(id)});
    if (auto done = rds.Call("DeleteDBInstance", p); !done) {
      if (done.error().code == ErrorCode::kNotFound) return StateOf(id, std::nullopt, d);
      if (done.error().message.find(": InvalidParameterCombination:") != std::string::npos &&
          done.error().message.find("protect") != std::string::npos)
        return Error{done.error().message +
                     "; set deletion_protection = false in an earlier stage than the one that deletes it"};
      return done.error();
    }
    auto gone = WaitFor(rds, change, id, true);
    if (!gone) return gone.error();
    return StateOf(id, std::nullopt, d);
  }
  if (change.action == Action::kCreate) {
    std::vector<std::string> missing;
    for (const char* a : {"engine", "instance_class", "allocated_storage", "master_username", "master_password"})
      if (!d.count(a)) missing.push_back(a);
    if (!missing.empty()) {
      std::string names;
      for (const std::string& m : missing) names += (names.empty() ? "" : ", ") + m;
      return Error{id + " does not exist; to create it, give " + names, ErrorCode::kInvalid};
    }
    std::vector<std::string> all;
    for (const auto& [k, v] : d) all.push_back(k);
    Params p = ParamsFor(d, all, true);
    p.insert(p.begin(), {"DBInstanceIdentifier", id});
    // A create cut off after RDS took it: the instance is there, and is waited for.
    if (auto made = rds.Call("CreateDBInstance", p);
        !made && made.error().message.find(": DBInstanceAlreadyExists:") == std::string::npos)
      return made.error();
  } else {
    for (const char* fixed : {"engine", "master_username"})
      if (std::find(change.changed.begin(), change.changed.end(), fixed) != change.changed.end())
        return Error{t.address + ": RDS cannot change an instance's " + std::string(fixed) + " (it is " +
                         StringAttr(change.prior.attrs, fixed) +
                         "); restore a snapshot into a new instance with another identifier instead",
                     ErrorCode::kNotSupported};
    Params p = ParamsFor(d, change.changed, false);
    if (!p.empty()) {
      p.insert(p.begin(), {"DBInstanceIdentifier", id});
      p.push_back({"ApplyImmediately", "true"});
      // A new major version is refused without it; a minor one takes it as well.
      if (std::find(change.changed.begin(), change.changed.end(), "engine_version") != change.changed.end())
        p.push_back({"AllowMajorVersionUpgrade", "true"});
      if (auto done = rds.Call("ModifyDBInstance", p); !done) return done.error();
    }
  }
  auto ready = WaitFor(rds, change, id, false);
  if (!ready) return ready.error();
  return StateOf(id, *ready, d);
}

void ReviewRdsInstance(const State& prior, const State& desired, Diff* diff) {
  // "15" asks for any 15.x: RDS reports the minor version it runs.
  if (diff->Update("engine_version") &&
      StringAttr(prior.attrs, "engine_version").rfind(StringAttr(desired.attrs, "engine_version") + ".", 0) == 0)
    diff->Drop("engine_version");
  if (diff->action == Action::kDelete && !diff->irreversible) {
    diff->irreversible = true;
    bool skip = BoolAttr(desired.attrs, "skip_final_snapshot").value_or(false);
    diff->irreversible_reason = skip ? "skip_final_snapshot = true: its data is gone for good"
                                     : "its data goes with it; a final snapshot (" +
                                           StringAttr(prior.attrs, "identifier") +
                                           "-final-TIME) is kept to restore from by hand";
  }
}

}  // namespace reconcile::aws
