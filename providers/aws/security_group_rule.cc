#include "providers/aws/aws_types.h"

#include <algorithm>
#include <regex>
#include <set>

namespace reconcile::aws {

namespace {

std::string GroupCheck(const std::string& v, const AttrMap&) {
  static const std::regex id(R"(^sg-[0-9a-f]{8,17}$)");
  return std::regex_match(v, id) ? "" : "a security group is named by its id, e.g. \"sg-0123456789abcdef0\"";
}

std::string CidrCheck(const std::string& v, const AttrMap&) {
  static const std::regex cidr(
      R"(^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}/(3[0-2]|[12]?\d)$)");
  return std::regex_match(v, cidr) ? "" : "a source is an IPv4 network in CIDR form, e.g. \"203.0.113.0/24\"";
}

std::string PortCheck(const std::string& v, const AttrMap&) {
  long n = std::strtol(v.c_str(), nullptr, 10);
  return n >= 0 && n <= 65535 ? "" : "a port is a number from 0 to 65535";
}

// The rule's protocol and ports as EC2 writes them ("-1" and no ports for all traffic).
struct Rule {
  std::string protocol;
  std::string from, to;  // "" for protocol -1
};

Result<Rule> RuleOf(const Target& t) {
  Rule r;
  std::string p = StringAttr(t.desired, "protocol");
  r.protocol = p == "all" ? "-1" : p;
  auto port = IntAttr(t.desired, "port");
  auto from = IntAttr(t.desired, "from_port"), to = IntAttr(t.desired, "to_port");
  if (r.protocol == "-1") {
    if (port || from || to)
      return Error{t.address + ": protocol \"all\" takes no port; leave out port, from_port and to_port",
                   ErrorCode::kInvalid};
    return r;
  }
  if (port && !from && !to) {
    r.from = r.to = std::to_string(*port);
  } else if (!port && from && to && *from <= *to) {
    r.from = std::to_string(*from);
    r.to = std::to_string(*to);
  } else {
    return Error{t.address + ": give port, or from_port and to_port (from_port no more than to_port), for " + p,
                 ErrorCode::kInvalid};
  }
  return r;
}

// The CIDRs the group allows in by exactly this protocol and port range.
Result<std::set<std::string>> Present(QueryClient& ec2, const std::string& group, const Rule& rule) {
  auto xml = ec2.Call("DescribeSecurityGroups", {{"GroupId.1", group}});
  if (!xml) return xml.error();
  pugi::xml_document doc;
  if (Status s = ParseAnswer(*xml, "ec2 DescribeSecurityGroups", &doc); !s) return s.error();
  std::set<std::string> out;
  for (pugi::xpath_node perm : doc.select_nodes(
           "//*[local-name()='securityGroupInfo']/*[local-name()='item']/*[local-name()='ipPermissions']/*")) {
    pugi::xml_node p = perm.node();
    if (p.child_value("ipProtocol") != rule.protocol) continue;
    if (rule.protocol != "-1" && (p.child_value("fromPort") != rule.from || p.child_value("toPort") != rule.to))
      continue;
    for (pugi::xpath_node range : p.select_nodes("*[local-name()='ipRanges']/*[local-name()='item']"))
      out.insert(range.node().child_value("cidrIp"));
  }
  return out;
}

std::vector<std::string> Named(const Target& t) {
  auto it = t.named.find("sources");
  std::vector<std::string> named = it == t.named.end() ? std::vector<std::string>() : it->second;
  // A rollback's target, or a stage's value that was a reference: its own items count too.
  for (const std::string& s : ListAttr(t.desired, "sources"))
    if (std::find(named.begin(), named.end(), s) == named.end()) named.push_back(s);
  return named;
}

State StateOf(const Target& t, const std::set<std::string>& present) {
  State s;
  for (const char* key : {"group", "protocol", "port", "from_port", "to_port"})
    if (auto it = t.desired.find(key); it != t.desired.end()) s.attrs[key] = it->second;
  StringList mine;
  for (const std::string& n : Named(t))
    if (present.count(n)) mine.push_back(n);
  std::sort(mine.begin(), mine.end());
  s.exists = !mine.empty();
  if (s.exists) s.attrs["sources"] = mine;
  return s;
}

// One Authorize or Revoke call for `cidrs` (AWS takes them all or none).
Status Modify(QueryClient& ec2, const char* action, const std::string& group, const Rule& rule,
              const std::vector<std::string>& cidrs, const std::string& description) {
  if (cidrs.empty()) return Status::Ok();
  Params p = {{"GroupId", group}, {"IpPermissions.1.IpProtocol", rule.protocol}};
  if (rule.protocol != "-1") {
    p.push_back({"IpPermissions.1.FromPort", rule.from});
    p.push_back({"IpPermissions.1.ToPort", rule.to});
  }
  for (std::size_t i = 0; i < cidrs.size(); ++i) {
    std::string prefix = "IpPermissions.1.IpRanges." + std::to_string(i + 1);
    p.push_back({prefix + ".CidrIp", cidrs[i]});
    if (!description.empty()) p.push_back({prefix + ".Description", description});
  }
  auto r = ec2.Call(action, p);
  // Already so (a retried request that had gone through, or someone else's same change): done.
  // What the group holds is read back and compared after.
  if (!r && r.error().message.find(": InvalidPermission.Duplicate:") == std::string::npos &&
      r.error().message.find(": InvalidPermission.NotFound:") == std::string::npos)
    return r.error();
  return Status::Ok();
}

}  // namespace

TypeSchema SecurityGroupRuleType() {
  return {
      .name = "security_group_rule",
      .doc =
          "One port's ingress in one security group from the CIDRs in `sources`; only the CIDRs it names (at any "
          "stage) are read or changed, other rules of the group never.",
      .attrs =
          {
              // clang-format off
              {.name = "group", .type = AttrType::kString, .required = true, .identity = true, .check = GroupCheck,
               .doc = "the security group's id"},
              {.name = "protocol", .type = AttrType::kString, .identity = true, .one_of = {"tcp", "udp", "all"},
               .default_value = "tcp", .doc = "the protocol; `all` takes no ports"},
              {.name = "port", .type = AttrType::kInt, .identity = true, .check = PortCheck,
               .doc = "the port (or from_port and to_port)"},
              {.name = "from_port", .type = AttrType::kInt, .identity = true, .check = PortCheck,
               .doc = "the first port of a range (with to_port)"},
              {.name = "to_port", .type = AttrType::kInt, .identity = true, .check = PortCheck,
               .doc = "the last port of a range (with from_port)"},
              {.name = "sources", .type = AttrType::kStringList, .unordered = true, .scoped = true, .check = CidrCheck,
               .doc = "the IPv4 networks let in, CIDR form; compared as a set, and only these (and those it names at "
                      "other stages) are its own"},
              {.name = "description", .type = AttrType::kString, .setting = true,
               .doc = "written on each source it authorizes"},
              // clang-format on
          },
      .provider_kind = "aws",
  };
}

Result<State> ProbeSecurityGroupRule(QueryClient& ec2, const Target& t) {
  auto rule = RuleOf(t);
  if (!rule) return rule.error();
  auto present = Present(ec2, StringAttr(t.desired, "group"), *rule);
  if (!present) return Error{present.error().message, present.error().code};
  return StateOf(t, *present);
}

Result<State> ApplySecurityGroupRule(QueryClient& ec2, const Change& change) {
  const Target& t = change.target;
  auto rule = RuleOf(t);
  if (!rule) return rule.error();
  const std::string group = StringAttr(t.desired, "group");
  auto present = Present(ec2, group, *rule);
  if (!present) return present.error();
  std::set<std::string> want;
  if (change.action != Action::kDelete)
    for (const std::string& s : ListAttr(t.desired, "sources")) want.insert(s);
  std::vector<std::string> add, remove;
  for (const std::string& s : want)
    if (!present->count(s)) add.push_back(s);
  for (const std::string& s : Named(t))
    if (present->count(s) && !want.count(s)) remove.push_back(s);
  // Open the new sources before closing the old ones: a move never leaves the port shut.
  if (Status s = Modify(ec2, "AuthorizeSecurityGroupIngress", group, *rule, add, StringAttr(t.desired, "description"));
      !s)
    return s.error();
  if (Status s = Modify(ec2, "RevokeSecurityGroupIngress", group, *rule, remove, ""); !s) return s.error();
  auto after = Present(ec2, group, *rule);
  if (!after) return after.error();
  // AWS may answer a revoke it did not do with success (a default VPC's unknownIpPermissionSet).
  for (const std::string& s : add)
    if (!after->count(s)) return Error{group + " does not allow " + s + " after it was authorized"};
  for (const std::string& s : remove)
    if (after->count(s)) return Error{group + " still allows " + s + " after it was revoked"};
  return StateOf(t, *after);
}

}  // namespace reconcile::aws
