#include "providers/dns/dns_wire.h"

#include <ldns/ldns.h>
#include <netdb.h>

#include <algorithm>
#include <memory>
#include <set>

namespace reconcile::dns {

namespace {

struct ResolverFree {
  void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
using ResolverPtr = std::unique_ptr<ldns_resolver, ResolverFree>;
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string TsigAlgorithm(const std::string& name) {
  std::string a = Lower(name);
  if (a == "hmac-md5") return "hmac-md5.sig-alg.reg.int.";
  return a.back() == '.' ? a : a + ".";
}

// The server's address as ldns wants it: an IP, looked up when a name was given.
Result<RdfPtr> Address(const std::string& host) {
  if (ldns_rdf* a = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, host.c_str())) return RdfPtr(a);
  if (ldns_rdf* a = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, host.c_str())) return RdfPtr(a);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0)
    return Error{"cannot resolve the DNS server " + host + ": " + gai_strerror(rc)};
  char ip[NI_MAXHOST];
  ::getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, nullptr, 0, NI_NUMERICHOST);
  bool v6 = res->ai_family == AF_INET6;
  ::freeaddrinfo(res);
  return RdfPtr(ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, ip));
}

Result<ResolverPtr> MakeResolver(const Server& server, const Tsig& tsig, bool tcp) {
  auto addr = Address(server.host);
  if (!addr) return addr.error();
  ResolverPtr r(ldns_resolver_new());
  ldns_resolver_push_nameserver(r.get(), addr->get());
  ldns_resolver_set_port(r.get(), static_cast<uint16_t>(server.port));
  ldns_resolver_set_recursive(r.get(), false);
  ldns_resolver_set_usevc(r.get(), tcp);
  ldns_resolver_set_retry(r.get(), 2);
  ldns_resolver_set_timeout(r.get(), timeval{5, 0});
  if (!tsig.empty()) {
    std::string name = tsig.name.back() == '.' ? tsig.name : tsig.name + ".";
    ldns_resolver_set_tsig_keyname(r.get(), name.c_str());
    ldns_resolver_set_tsig_algorithm(r.get(), TsigAlgorithm(tsig.algorithm).c_str());
    ldns_resolver_set_tsig_keydata(r.get(), tsig.secret.c_str());
  }
  return r;
}

std::string RdataText(const ldns_rr* rr) {
  std::string out;
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    char* s = ldns_rdf2str(ldns_rr_rdf(rr, i));
    out += (i ? " " : "") + std::string(s ? s : "");
    free(s);
  }
  return out;
}

std::string TypeName(ldns_rr_type t) {
  char* s = ldns_rr_type2str(t);
  std::string out = s ? s : "";
  free(s);
  return out;
}

std::string OwnerText(const ldns_rr* rr) {
  char* s = ldns_rdf2str(ldns_rr_owner(rr));
  std::string out = Lower(s ? s : "");
  free(s);
  return out;
}

// A TXT value as written ("v=spf1 -all") becomes one quoted string; one already in
// presentation format (starting with a quote) is taken as it is.
std::string PresentationValue(const std::string& type, const std::string& value) {
  if (type != "TXT" || (!value.empty() && value.front() == '"')) return value;
  std::string q = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

Result<ldns_rr*> MakeRR(const std::string& owner, long ttl, const std::string& type, const std::string& value,
                        const std::string& zone) {
  std::string text = owner + " " + std::to_string(ttl) + " IN " + type + " " + PresentationValue(type, value);
  ldns_rr* rr = nullptr;
  RdfPtr origin(ldns_dname_new_frm_str(zone.c_str()));
  ldns_status s = ldns_rr_new_frm_str(&rr, text.c_str(), static_cast<uint32_t>(ttl), origin.get(), nullptr);
  if (s != LDNS_STATUS_OK)
    return Error{"'" + value + "' is not a valid " + type + " value: " + ldns_get_errorstr_by_id(s)};
  return rr;
}

// An RR without data: "no such RRset" (class NONE) or "delete the RRset" (class ANY).
ldns_rr* EmptyRR(const std::string& owner, const std::string& type, ldns_rr_class cls) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_dname_new_frm_str(owner.c_str()));
  ldns_rr_set_type(rr, ldns_get_rr_type_by_name(type.c_str()));
  ldns_rr_set_class(rr, cls);
  ldns_rr_set_ttl(rr, 0);
  return rr;
}

std::string StatusText(ldns_status s) { return ldns_get_errorstr_by_id(s) ? ldns_get_errorstr_by_id(s) : "unknown"; }

std::string RcodeText(ldns_pkt_rcode rc) {
  ldns_lookup_table* t = ldns_lookup_by_id(ldns_rcodes, rc);
  return t ? t->name : std::to_string(rc);
}

Error SendFailure(const Server& server, const Tsig& tsig, ldns_status s, const std::string& what) {
  if (s == LDNS_STATUS_CRYPTO_TSIG_BOGUS || s == LDNS_STATUS_CRYPTO_TSIG_ERR)
    return Error{server.Describe() + " did not accept the TSIG key '" + tsig.name + "' (" + tsig.algorithm +
                 "): its answer was not signed with it. Check tsig_name, tsig_algorithm and tsig_secret against "
                 "the server's key"};
  return Error{"cannot " + what + " at " + server.Describe() + ": " + StatusText(s)};
}

Error RcodeFailure(const Server& server, const Tsig& tsig, ldns_pkt_rcode rc, const std::string& what) {
  std::string msg = server.Describe() + " answered " + RcodeText(rc) + " to " + what;
  if (rc == LDNS_RCODE_NOTAUTH)
    msg += tsig.empty() ? ": it is not authoritative for the zone"
                        : ": it refused the TSIG key '" + tsig.name +
                              "' (wrong secret, name or algorithm?) or is not "
                              "authoritative for the zone";
  else if (rc == LDNS_RCODE_REFUSED)
    msg += tsig.empty() ? ": it allows this only with a TSIG key; set tsig_name and tsig_secret"
                        : ": either the key '" + tsig.name +
                              "' may not do this on the zone (allow-update, "
                              "allow-transfer), or the server's own checks turned the records down (BIND refuses an "
                              "in-zone MX or SRV target that has no address record); its log says which";
  return Error{msg};
}

void Add(Zone* zone, const ldns_rr* rr) {
  std::string owner = OwnerText(rr), type = TypeName(ldns_rr_get_type(rr));
  RRset& set = (*zone)[{owner, type}];
  set.owner = owner;
  set.type = type;
  set.ttl = ldns_rr_ttl(rr);
  std::string v = RdataText(rr);
  if (std::find(set.values.begin(), set.values.end(), v) == set.values.end()) set.values.push_back(v);
}

}  // namespace

std::string ValueProblem(const std::string& type, const std::string& value) {
  for (char ch : value) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f)
      return "holds a control character (a line break or a tab), which ends a zone-file record or field; "
             "separate fields with spaces, and write other bytes inside quotes as \\DDD";
  }
  if (type == "TXT" && (value.empty() || value.front() != '"')) return "";
  bool quoted = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\') {
      if (++i == value.size()) return "ends with a lone backslash, which escapes nothing";
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == ';') {
      return "holds ';' outside quotes, where a zone-file comment starts: everything after it would be "
             "dropped; remove it (a comment belongs in the spec: # …), or quote or escape it (\\;) if it is data";
    } else if (!quoted && (c == '(' || c == ')')) {
      return "holds a parenthesis outside quotes, which groups lines in a zone file; write the record on one "
             "line, and quote or escape (\\( \\)) a parenthesis that is data";
    }
  }
  if (quoted) return "opens a quote it never closes";
  return "";
}

std::string NameProblem(const std::string& name) {
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == ';' || c == '(' || c == ')' || c == '"')
      return "is not one domain name: it holds a space, control character, ';', parenthesis or quote";
  }
  return "";
}

Result<Server> ParseServer(const std::string& text) {
  Server s;
  std::string host = text;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string::npos) return Error{"'" + text + "' has no closing ']'"};
    host = text.substr(1, close - 1);
    if (close + 1 < text.size() && text[close + 1] == ':') port = text.substr(close + 2);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  }
  if (host.empty()) return Error{"'" + text + "' names no server"};
  s.host = host;
  if (!port.empty()) {
    try {
      s.port = std::stoi(port);
    } catch (...) {
      return Error{"'" + text + "': the port must be a number"};
    }
  }
  return s;
}

std::string AbsoluteZone(const std::string& zone) {
  return Lower(zone.empty() || zone.back() == '.' ? zone : zone + ".");
}

std::string OwnerName(const std::string& name, const std::string& zone) {
  std::string z = AbsoluteZone(zone);
  if (name.empty() || name == "@") return z;
  if (name.back() == '.') return Lower(name);
  return Lower(name) + "." + z;
}

Result<std::string> CanonicalValue(const std::string& type, const std::string& value, const std::string& zone) {
  auto rr = MakeRR(AbsoluteZone(zone), 0, type, value, AbsoluteZone(zone));
  if (!rr) return rr.error();
  std::string text = RdataText(*rr);
  ldns_rr_free(*rr);
  return text;
}

Result<std::vector<std::string>> CanonicalSet(const std::string& type, const std::vector<std::string>& values,
                                              const std::string& zone) {
  std::vector<std::string> out;
  for (const std::string& v : values) {
    auto c = CanonicalValue(type, v, zone);
    if (!c) return c.error();
    out.push_back(*c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::optional<Zone>> Transfer(const Server& server, const std::string& zone, const Tsig& tsig) {
  auto r = MakeResolver(server, tsig, true);
  if (!r) return r.error();
  RdfPtr name(ldns_dname_new_frm_str(AbsoluteZone(zone).c_str()));
  ldns_status s = ldns_axfr_start(r->get(), name.get(), LDNS_RR_CLASS_IN);
  if (s != LDNS_STATUS_OK) return SendFailure(server, tsig, s, "transfer " + zone);
  Zone out;
  while (ldns_rr* rr = ldns_axfr_next(r->get())) {
    Add(&out, rr);
    ldns_rr_free(rr);
  }
  if (!ldns_axfr_complete(r->get())) {
    const ldns_pkt* last = ldns_axfr_last_pkt(r->get());
    if (last && ldns_pkt_get_rcode(last) == LDNS_RCODE_REFUSED) return std::optional<Zone>();
    if (last && ldns_pkt_get_rcode(last) != LDNS_RCODE_NOERROR)
      return RcodeFailure(server, tsig, ldns_pkt_get_rcode(last), "a transfer of " + zone);
    return Error{"the transfer of " + zone + " from " + server.Describe() + " ended early"};
  }
  for (auto& [key, set] : out) std::sort(set.values.begin(), set.values.end());
  return std::optional<Zone>(std::move(out));
}

Result<std::optional<RRset>> Query(const Server& server, const std::string& owner, const std::string& type,
                                   const Tsig& tsig) {
  auto r = MakeResolver(server, tsig, false);
  if (!r) return r.error();
  RdfPtr name(ldns_dname_new_frm_str(owner.c_str()));
  if (!name) return Error{"'" + owner + "' is not a domain name"};
  ldns_rr_type t = ldns_get_rr_type_by_name(type.c_str());
  ldns_pkt* raw = nullptr;
  ldns_status s = ldns_resolver_send(&raw, r->get(), name.get(), t, LDNS_RR_CLASS_IN, 0);
  PktPtr p(raw);
  if (s != LDNS_STATUS_OK) return SendFailure(server, tsig, s, "ask for " + owner + " " + type);
  ldns_pkt_rcode rc = ldns_pkt_get_rcode(p.get());
  if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN)
    return RcodeFailure(server, tsig, rc, "a question for " + owner + " " + type);
  Zone found;
  ldns_rr_list* answer = ldns_pkt_answer(p.get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) == t && OwnerText(rr) == Lower(owner)) Add(&found, rr);
  }
  if (found.empty()) return std::optional<RRset>();
  RRset set = found.begin()->second;
  std::sort(set.values.begin(), set.values.end());
  return std::optional<RRset>(set);
}

Result<UpdateOutcome> Update(const Server& server, const std::string& zone, const Tsig& tsig,
                             const std::vector<RRsetChange>& changes) {
  std::string z = AbsoluteZone(zone);
  RrListPtr pre(ldns_rr_list_new()), up(ldns_rr_list_new());
  for (const RRsetChange& c : changes) {
    const RRset& any = c.before ? *c.before : *c.after;
    if (c.before) {
      for (const std::string& v : c.before->values) {  // RRset exists, value dependent (RFC 2136 2.4.2)
        auto rr = MakeRR(any.owner, 0, any.type, v, z);
        if (!rr) return rr.error();
        ldns_rr_list_push_rr(pre.get(), *rr);
      }
      ldns_rr_list_push_rr(up.get(), EmptyRR(any.owner, any.type, LDNS_RR_CLASS_ANY));  // delete the RRset
    } else {
      ldns_rr_list_push_rr(pre.get(), EmptyRR(any.owner, any.type, LDNS_RR_CLASS_NONE));  // RRset does not exist
    }
    if (c.after) {
      for (const std::string& v : c.after->values) {
        auto rr = MakeRR(any.owner, c.after->ttl, any.type, v, z);
        if (!rr) return rr.error();
        ldns_rr_list_push_rr(up.get(), *rr);
      }
    }
  }
  auto r = MakeResolver(server, tsig, true);
  if (!r) return r.error();
  PktPtr u(ldns_update_pkt_new(ldns_dname_new_frm_str(z.c_str()), LDNS_RR_CLASS_IN, pre.get(), up.get(), nullptr));
  if (!tsig.empty()) {
    if (ldns_status s = ldns_update_pkt_tsig_add(u.get(), r->get()); s != LDNS_STATUS_OK)
      return Error{"cannot sign the update with the TSIG key '" + tsig.name + "': " + StatusText(s) +
                   " (is tsig_secret base64?)"};
  }
  ldns_pkt* raw = nullptr;
  ldns_status s = ldns_resolver_send_pkt(&raw, r->get(), u.get());
  PktPtr answer(raw);
  if (s != LDNS_STATUS_OK) {
    // A refused key is answered unsigned: ldns reports the answer's signature as bogus.
    if (answer && ldns_pkt_get_rcode(answer.get()) != LDNS_RCODE_NOERROR)
      return RcodeFailure(server, tsig, ldns_pkt_get_rcode(answer.get()), "an update of " + zone);
    return SendFailure(server, tsig, s, "update " + zone);
  }
  ldns_pkt_rcode rc = ldns_pkt_get_rcode(answer.get());
  if (rc == LDNS_RCODE_NOERROR) return UpdateOutcome::kDone;
  if (rc == LDNS_RCODE_NXRRSET || rc == LDNS_RCODE_YXRRSET || rc == LDNS_RCODE_NXDOMAIN || rc == LDNS_RCODE_YXDOMAIN)
    return UpdateOutcome::kChangedSincePlan;
  return RcodeFailure(server, tsig, rc, "an update of " + zone);
}

}  // namespace reconcile::dns
