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

std::string InstanceCheck(const std::string& v, const AttrMap&) {
  static const std::regex id(R"(^(i-[0-9a-f]{8,17})?$)");
  return std::regex_match(v, id) ? "" : "an instance id looks like \"i-0abc123def4567890\" (\"\" for none)";
}

// The address as EC2 describes it, or none when it is not allocated in this region.
Result<std::optional<Address>> Describe(QueryClient& ec2, const std::string& ip) {
  auto xml = ec2.Call("DescribeAddresses", {{"PublicIp.1", ip}});
  if (!xml) {
    if (xml.error().code == ErrorCode::kNotFound) return std::optional<Address>();
    return xml.error();
  }
  pugi::xml_document doc;
  if (Status s = ParseAnswer(*xml, "ec2 DescribeAddresses", &doc); !s) return s.error();
  for (pugi::xpath_node item : doc.select_nodes("//*[local-name()='addressesSet']/*[local-name()='item']")) {
    if (item.node().child_value("publicIp") != ip) continue;
    return std::optional<Address>(Address{item.node().child_value("allocationId"),
                                          item.node().child_value("associationId"),
                                          item.node().child_value("instanceId")});
  }
  return std::optional<Address>();
}

State StateOf(const std::string& ip, const std::optional<Address>& a) {
  if (!a) return State{false, {}};
  return State{true, {{"address", ip}, {"instance", a->instance}}};
}

}  // namespace

TypeSchema ElasticIpType() {
  return {
      .name = "elastic_ip",
      .doc = "An Elastic IP's association: the instance its public address points at, or none.",
      .attrs =
          {
              // clang-format off
              {.name = "address", .type = AttrType::kString, .required = true, .identity = true, .check = AddressCheck,
               .doc = "the public IPv4 address, allocated beforehand (reconcile never allocates or releases one)"},
              {.name = "instance", .type = AttrType::kString, .check = InstanceCheck,
               .doc = "the instance it is associated with; \"\" for none. A change re-associates it"},
              // clang-format on
          },
      .provider_kind = "aws",
  };
}

Result<State> ProbeElasticIp(QueryClient& ec2, const Target& t) {
  std::string ip = StringAttr(t.desired, "address");
  auto a = Describe(ec2, ip);
  if (!a) return Error{t.address + ": " + a.error().message, a.error().code};
  return StateOf(ip, *a);
}

Result<State> ApplyElasticIp(QueryClient& ec2, const Change& change) {
  const Target& t = change.target;
  std::string ip = StringAttr(t.desired, "address");
  auto fail = [&](const Error& e) { return Error{t.address + ": " + e.message, e.code}; };
  if (change.action == Action::kDelete)
    return Error{t.address +
                     ": reconcile does not release Elastic IPs (the address would be gone for good); "
                     "take it out of the spec to leave it as it is, or set instance = \"\" to detach it",
                 ErrorCode::kNotSupported};
  auto now = Describe(ec2, ip);
  if (!now) return fail(now.error());
  if (!*now)
    return Error{t.address + ": " + ip + " is not an Elastic IP of " + ec2.endpoint().signing_region +
                     "; allocate it first (aws ec2 allocate-address) and write its address here",
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
      return fail(done.error());
  }
  auto after = Describe(ec2, ip);
  if (!after) return fail(after.error());
  return StateOf(ip, *after);
}

}  // namespace reconcile::aws
