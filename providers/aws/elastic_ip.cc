#include "providers/aws/aws_types.h"

#include <regex>

namespace reconcile::aws {

namespace {

struct Address {
  std::string allocation_id, association_id, instance;
};

std::string AddressCheck(const std::string& v, const AttrMap&) {
  static const std::regex ipv4(R"(^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$)");
  return std::regex_match(v, ipv4) ? "" : "an Elastic IP is written as its public IPv4 address, e.g. \"203.0.113.7\"";
}

std::string AllocationCheck(const std::string& v, const AttrMap&) {
  static const std::regex id(R"(^eipalloc-[0-9a-f]{8,17}$)");
  return std::regex_match(v, id) ? "" : "an allocation id looks like \"eipalloc-0abc123def4567890\"";
}

std::string InstanceCheck(const std::string& v, const AttrMap&) {
  static const std::regex id(R"(^(i-[0-9a-f]{8,17})?$)");
  return std::regex_match(v, id) ? "" : "an instance id looks like \"i-0abc123def4567890\" (\"\" for none)";
}

// How the spec names the address: by its public IP or by its allocation id.
struct Name {
  std::string ip, allocation;
  std::string Shown() const { return ip.empty() ? allocation : ip; }
};

Result<Name> NameOf(const Target& t) {
  Name n{StringAttr(t.desired, "address"), StringAttr(t.desired, "allocation_id")};
  if (n.ip.empty() == n.allocation.empty())
    return Error{t.address + ": name the Elastic IP by `address` (its public IP) or by `allocation_id`, one of the two",
                 ErrorCode::kInvalid};
  return n;
}

// The address as EC2 describes it, or none when it is not allocated in this region.
Result<std::optional<Address>> Describe(QueryClient& ec2, const Name& name, std::string* ip) {
  auto xml = name.ip.empty() ? ec2.Call("DescribeAddresses", {{"AllocationId.1", name.allocation}})
                             : ec2.Call("DescribeAddresses", {{"PublicIp.1", name.ip}});
  if (!xml) {
    if (xml.error().code == ErrorCode::kNotFound) return std::optional<Address>();
    return xml.error();
  }
  pugi::xml_document doc;
  if (Status s = ParseAnswer(*xml, "ec2 DescribeAddresses", &doc); !s) return s.error();
  for (pugi::xpath_node item : doc.select_nodes("//*[local-name()='addressesSet']/*[local-name()='item']")) {
    pugi::xml_node n = item.node();
    if (name.ip.empty() ? n.child_value("allocationId") != name.allocation : n.child_value("publicIp") != name.ip)
      continue;
    *ip = n.child_value("publicIp");
    return std::optional<Address>(
        Address{n.child_value("allocationId"), n.child_value("associationId"), n.child_value("instanceId")});
  }
  return std::optional<Address>();
}

// The identity as the spec wrote it (the other way of naming it is not the spec's to compare).
State StateOf(const Name& name, const std::optional<Address>& a) {
  if (!a) return State{false, {}};
  State st{true, {{"instance", a->instance}}};
  if (name.ip.empty()) st.attrs["allocation_id"] = name.allocation;
  else st.attrs["address"] = name.ip;
  return st;
}

}  // namespace

TypeSchema ElasticIpType() {
  return {
      .name = "elastic_ip",
      .doc = "An Elastic IP's association: the instance its public address points at, or none.",
      .attrs =
          {
              // clang-format off
              {.name = "address", .type = AttrType::kString, .identity = true, .check = AddressCheck,
               .doc = "the public IPv4 address, allocated beforehand (reconcile never allocates or releases one); "
                      "or name it by allocation_id"},
              {.name = "allocation_id", .type = AttrType::kString, .identity = true, .check = AllocationCheck,
               .doc = "the address's allocation id (\"eipalloc-…\"), instead of address"},
              {.name = "instance", .type = AttrType::kString, .check = InstanceCheck,
               .doc = "the instance it is associated with; \"\" for none. A change re-associates it"},
              // clang-format on
          },
      .provider_kind = "aws",
  };
}

Result<State> ProbeElasticIp(QueryClient& ec2, const Target& t) {
  auto name = NameOf(t);
  if (!name) return name.error();
  std::string ip;
  auto a = Describe(ec2, *name, &ip);
  if (!a) return Error{a.error().message, a.error().code};
  return StateOf(*name, *a);
}

Result<State> ApplyElasticIp(QueryClient& ec2, const Change& change) {
  const Target& t = change.target;
  if (change.action == Action::kDelete)
    return Error{t.address +
                     ": reconcile does not release Elastic IPs (the address would be gone for good); "
                     "take it out of the spec to leave it as it is, or set instance = \"\" to detach it",
                 ErrorCode::kNotSupported};
  auto name = NameOf(t);
  if (!name) return name.error();
  std::string ip;
  auto now = Describe(ec2, *name, &ip);
  if (!now) return now.error();
  if (!*now)
    return Error{name->Shown() + " is not an Elastic IP of " + ec2.endpoint().signing_region +
                     "; allocate it first (aws ec2 allocate-address) and write its " +
                     (name->ip.empty() ? "allocation id" : "address") + " here",
                 ErrorCode::kNotFound};
  std::string want = StringAttr(t.desired, "instance");
  if (t.desired.count("instance") && (*now)->instance != want) {
    Result<std::string> done = std::string();
    if (want.empty()) {
      done = ec2.Call("DisassociateAddress", {{"AssociationId", (*now)->association_id}});
    } else {
      Params p = {{"InstanceId", want}, {"AllowReassociation", "true"}};
      if (!(*now)->allocation_id.empty()) p.push_back({"AllocationId", (*now)->allocation_id});
      else p.push_back({"PublicIp", ip});
      done = ec2.Call("AssociateAddress", p);
    }
    if (!done && done.error().message.find(": InvalidAssociationID.NotFound:") == std::string::npos)
      return done.error();
  }
  auto after = Describe(ec2, *name, &ip);
  if (!after) return after.error();
  return StateOf(*name, *after);
}

}  // namespace reconcile::aws
