#include "providers/dns/route53_xml.h"

#include <algorithm>
#include <cctype>

#include <pugixml.hpp>

namespace reconcile::dns::route53 {

namespace {

std::string Text(const pugi::xml_node& n, const char* child) { return n.child(child).child_value(); }

Status Load(const std::string& xml, const char* what, pugi::xml_document* doc) {
  if (doc->load_buffer(xml.data(), xml.size())) return Status::Ok();
  return Error{"Route 53's answer to " + std::string(what) + " is not XML"};
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

std::string Tail(const std::string& id, const std::string& prefix) {
  return id.rfind(prefix, 0) == 0 ? id.substr(prefix.size()) : id;
}

}  // namespace

std::string NormalName(const std::string& name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 3 < name.size() && std::isdigit(static_cast<unsigned char>(name[i + 1])) &&
        std::isdigit(static_cast<unsigned char>(name[i + 2])) &&
        std::isdigit(static_cast<unsigned char>(name[i + 3]))) {
      out += static_cast<char>(std::stoi(name.substr(i + 1, 3), nullptr, 8));
      i += 3;
      continue;
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  }
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

Result<RecordPage> ParseRecordPage(const std::string& xml) {
  pugi::xml_document doc;
  if (Status s = Load(xml, "ListResourceRecordSets", &doc); !s) return Error{s.message()};
  pugi::xml_node root = doc.child("ListResourceRecordSetsResponse");
  if (!root) return Error{"Route 53's answer to ListResourceRecordSets has no ListResourceRecordSetsResponse"};
  RecordPage page;
  for (pugi::xml_node n : root.child("ResourceRecordSets").children("ResourceRecordSet")) {
    RRset set;
    set.owner = Text(n, "Name");
    set.type = Text(n, "Type");
    if (pugi::xml_node alias = n.child("AliasTarget")) {
      // moto lists an alias with a TTL of 0; AWS with none. An alias has no TTL of its own.
      set.alias = AliasTarget{NormalName(Text(alias, "DNSName")), Text(alias, "HostedZoneId"),
                              std::string(Text(alias, "EvaluateTargetHealth")) == "true"};
    } else {
      set.ttl = n.child("TTL").text().as_llong(0);
      for (pugi::xml_node r : n.child("ResourceRecords").children("ResourceRecord"))
        set.values.push_back(Text(r, "Value"));
    }
    page.routed.push_back(!n.child("SetIdentifier").empty());
    page.sets.push_back(std::move(set));
  }
  page.truncated = std::string(Text(root, "IsTruncated")) == "true";
  page.next_name = Text(root, "NextRecordName");
  page.next_type = Text(root, "NextRecordType");
  page.next_identifier = Text(root, "NextRecordIdentifier");
  if (page.truncated && page.next_name.empty())
    return Error{"Route 53 said the record list goes on, but not where (no NextRecordName)"};
  return page;
}

Result<std::vector<std::string>> ParseZonesNamed(const std::string& xml, const std::string& zone) {
  pugi::xml_document doc;
  if (Status s = Load(xml, "ListHostedZonesByName", &doc); !s) return Error{s.message()};
  pugi::xml_node root = doc.child("ListHostedZonesByNameResponse");
  if (!root) return Error{"Route 53's answer to ListHostedZonesByName has no ListHostedZonesByNameResponse"};
  std::vector<std::string> ids;
  for (pugi::xml_node z : root.child("HostedZones").children("HostedZone"))
    if (NormalName(Text(z, "Name")) == NormalName(zone)) ids.push_back(Tail(Text(z, "Id"), "/hostedzone/"));
  return ids;
}

Result<std::string> ParseHostedZoneName(const std::string& xml) {
  pugi::xml_document doc;
  if (Status s = Load(xml, "GetHostedZone", &doc); !s) return Error{s.message()};
  std::string name = Text(doc.child("GetHostedZoneResponse").child("HostedZone"), "Name");
  if (name.empty()) return Error{"Route 53's answer to GetHostedZone names no zone"};
  return NormalName(name);
}

Result<ChangeInfo> ParseChangeInfo(const std::string& xml) {
  pugi::xml_document doc;
  if (Status s = Load(xml, "a change", &doc); !s) return Error{s.message()};
  pugi::xml_node info = doc.first_child().child("ChangeInfo");
  ChangeInfo out{Tail(Text(info, "Id"), "/change/"), Text(info, "Status")};
  if (out.id.empty() || out.status.empty()) return Error{"Route 53's answer to a change has no ChangeInfo"};
  return out;
}

std::string ChangeBatchXml(const std::vector<Change>& changes, const std::string& comment) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch>";
  if (!comment.empty()) x += "<Comment>" + Escape(comment) + "</Comment>";
  x += "<Changes>";
  for (const Change& c : changes) {
    const RRset& s = c.set;
    x += "<Change><Action>" + c.action + "</Action><ResourceRecordSet><Name>" + Escape(s.owner) + "</Name><Type>" +
         Escape(s.type) + "</Type>";
    if (s.alias) {
      x += "<AliasTarget><HostedZoneId>" + Escape(s.alias->zone_id) + "</HostedZoneId><DNSName>" +
           Escape(s.alias->dns_name) + "</DNSName><EvaluateTargetHealth>" +
           (s.alias->evaluate_health ? "true" : "false") + "</EvaluateTargetHealth></AliasTarget>";
    } else {
      x += "<TTL>" + std::to_string(s.ttl) + "</TTL><ResourceRecords>";
      for (const std::string& v : s.values) x += "<ResourceRecord><Value>" + Escape(v) + "</Value></ResourceRecord>";
      x += "</ResourceRecords>";
    }
    x += "</ResourceRecordSet></Change>";
  }
  x += "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>\n";
  return x;
}

bool UpsertReplacements(std::vector<Change>* batch) {
  bool any = false;
  for (std::size_t i = 0; i < batch->size(); ++i) {
    Change& c = (*batch)[i];
    if (c.action != "CREATE") continue;
    for (std::size_t j = 0; j < i; ++j) {
      const Change& d = (*batch)[j];
      if (d.action == "DELETE" && d.set.type == c.set.type && NormalName(d.set.owner) == NormalName(c.set.owner)) {
        c.action = "UPSERT";
        any = true;
        break;
      }
    }
  }
  return any;
}

bool IsChangedSincePlan(const std::string& code, const std::string& message) {
  auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
  if (code == "InvalidChangeBatch")
    return (has("Tried to delete") && (has("not found") || has("do not match"))) ||
           (has("Tried to create") && has("already exists"));
  return code == "InvalidInput" && has("Action=DELETE");
}

}  // namespace reconcile::dns::route53
