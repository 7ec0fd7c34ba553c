#include "providers/aws/aws_types.h"

#include <chrono>
#include <regex>
#include <thread>

namespace reconcile::aws {

namespace {

struct Snapshot {
  std::string instance, status;
};

Result<std::optional<Snapshot>> Describe(QueryClient& rds, const std::string& id) {
  auto xml = rds.Call("DescribeDBSnapshots", {{"DBSnapshotIdentifier", id}});
  if (!xml) {
    if (xml.error().code == ErrorCode::kNotFound) return std::optional<Snapshot>();
    return xml.error();
  }
  pugi::xml_document doc;
  if (Status s = ParseAnswer(*xml, "rds DescribeDBSnapshots", &doc); !s) return s.error();
  for (pugi::xpath_node s : doc.select_nodes("//*[local-name()='DBSnapshot']")) {
    if (s.node().child_value("DBSnapshotIdentifier") != id) continue;
    return std::optional<Snapshot>(
        Snapshot{s.node().child_value("DBInstanceIdentifier"), s.node().child_value("Status")});
  }
  return std::optional<Snapshot>();
}

State StateOf(const std::string& id, const std::optional<Snapshot>& s) {
  State st{false, {{"identifier", id}}};
  if (!s) return st;
  st.exists = true;
  st.attrs["instance"] = s->instance;
  return st;
}

}  // namespace

// RDS's rule for instance and snapshot identifiers: a letter, then letters, digits and single
// hyphens, 1 to 255 characters, not ending in a hyphen.
std::string RdsIdentifierCheck(const std::string& v, const AttrMap&) {
  static const std::regex id(R"(^[A-Za-z](-?[A-Za-z0-9])*$)");
  if (v.size() <= 255 && std::regex_match(v, id)) return "";
  return "an RDS identifier starts with a letter and holds letters, digits and single hyphens (not at the end), "
         "e.g. \"shop-pre-cutover\"";
}

TypeSchema RdsSnapshotType() {
  return {
      .name = "rds_snapshot",
      .doc =
          "A manual snapshot of an RDS instance, taken once and never deleted by reconcile (it is the way back). "
          "One that exists under the identifier is adopted.",
      .attrs =
          {
              // clang-format off
              {.name = "instance", .type = AttrType::kString, .required = true, .check = RdsIdentifierCheck,
               .doc = "the DB instance identifier"},
              {.name = "identifier", .type = AttrType::kString, .required = true, .identity = true,
               .check = RdsIdentifierCheck,
               .doc = "the snapshot's identifier; put `${run}` in it to take a new one after a rollback"},
              // clang-format on
          },
      .provider_kind = "aws",
  };
}

Result<State> ProbeRdsSnapshot(QueryClient& rds, const Target& t) {
  std::string id = StringAttr(t.desired, "identifier");
  auto s = Describe(rds, id);
  if (!s) return Error{s.error().message, s.error().code};
  if (!*s) return StateOf(id, *s);
  // Adopted only when it is what the spec asks for, and usable: a snapshot of another instance
  // under the name is no backup of this one, and one not yet available is waited for by apply.
  std::string instance = StringAttr(t.desired, "instance");
  if (!instance.empty() && (*s)->instance != instance)
    return Error{t.address + ": the snapshot " + id + " exists, of the instance " + (*s)->instance + ", not " +
                     instance + "; give this one another identifier",
                 ErrorCode::kChanged};
  if ((*s)->status == "failed" || (*s)->status == "error")
    return Error{t.address + ": the snapshot " + id + " is " + (*s)->status +
                 "; delete it (aws rds delete-db-snapshot) or give this one another identifier"};
  if ((*s)->status != "available") return StateOf(id, std::nullopt);  // apply waits for it
  return StateOf(id, *s);
}

Result<State> ApplyRdsSnapshot(QueryClient& rds, const Change& change) {
  const Target& t = change.target;
  std::string id = StringAttr(t.desired, "identifier");
  if (change.action != Action::kCreate) {
    // Review makes any other change none; a snapshot is never changed or deleted.
    auto s = Describe(rds, id);
    if (!s) return s.error();
    return StateOf(id, *s);
  }
  // One that exists already (taken by a run cut off while it waited) is waited for, not taken again.
  auto made = rds.Call("CreateDBSnapshot",
                       {{"DBInstanceIdentifier", StringAttr(t.desired, "instance")}, {"DBSnapshotIdentifier", id}});
  if (!made && made.error().message.find(": DBSnapshotAlreadyExists:") == std::string::npos) return made.error();
  // A snapshot is usable once available; RDS takes minutes for a large one.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(2);
  int misses = 0;
  for (;;) {
    auto s = Describe(rds, id);
    if (!s) {
      if (++misses < 5) {  // one failed poll in a long wait is not the snapshot's failure
        std::this_thread::sleep_for(std::chrono::seconds(5));
        continue;
      }
      return s.error();
    }
    misses = 0;
    if (!*s) return Error{id + " was asked for and is not listed"};
    if ((*s)->status == "available") return StateOf(id, *s);
    if ((*s)->status == "failed" || (*s)->status == "error")
      return Error{t.address + ": the snapshot " + id + " is " + (*s)->status};
    if (std::chrono::steady_clock::now() > deadline)
      return Error{t.address + ": the snapshot " + id + " is still " + (*s)->status + " after 2 hours"};
    std::this_thread::sleep_for(std::chrono::seconds(5));
  }
}

void ReviewRdsSnapshot(Diff* diff) {
  // Taken once: what is under the identifier is the snapshot (a new one takes a new
  // identifier), and a rollback past it keeps it: it is what the operator restores from.
  if (diff->action == Action::kDelete || diff->action == Action::kUpdate) {
    diff->action = Action::kNone;
    diff->changes.clear();
  }
}

}  // namespace reconcile::aws
