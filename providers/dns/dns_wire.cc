#include "providers/dns/dns_wire.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
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
struct BufferFree {
  void operator()(ldns_buffer* b) const { ldns_buffer_free(b); }
};
using ResolverPtr = std::unique_ptr<ldns_resolver, ResolverFree>;
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;
using BufferPtr = std::unique_ptr<ldns_buffer, BufferFree>;

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

constexpr timeval kTimeout{5, 0};

std::string KeyName(const Tsig& tsig) { return tsig.name.back() == '.' ? tsig.name : tsig.name + "."; }

Result<ResolverPtr> MakeResolver(const Server& server, const Tsig& tsig, bool tcp) {
  auto addr = Address(server.host);
  if (!addr) return addr.error();
  ResolverPtr r(ldns_resolver_new());
  ldns_resolver_push_nameserver(r.get(), addr->get());
  ldns_resolver_set_port(r.get(), static_cast<uint16_t>(server.port));
  ldns_resolver_set_recursive(r.get(), false);
  ldns_resolver_set_usevc(r.get(), tcp);
  ldns_resolver_set_retry(r.get(), 2);
  ldns_resolver_set_timeout(r.get(), kTimeout);
  if (!tsig.empty()) {
    ldns_resolver_set_tsig_keyname(r.get(), KeyName(tsig).c_str());
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

// An A or AAAA value read as ldns reads it (inet_pton) without its zone-file parser, which
// costs more than the rest of an update: nullopt for any other type, or a value with a
// character no address has (a space, a comment), which ldns then reads or turns down itself.
struct IpValue {
  int family = AF_INET;
  unsigned char bytes[16] = {};
  std::size_t size() const { return family == AF_INET ? 4 : 16; }
};
std::optional<IpValue> FastAddress(const std::string& type, const std::string& value) {
  IpValue a;
  if (type == "AAAA") a.family = AF_INET6;
  else if (type != "A") return std::nullopt;
  if (value.empty() || value.size() > 45) return std::nullopt;
  for (char c : value)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != ':') return std::nullopt;
  if (::inet_pton(a.family, value.c_str(), a.bytes) != 1) return std::nullopt;
  return a;
}

Result<ldns_rr*> MakeRR(const std::string& owner, long ttl, const std::string& type, const std::string& value,
                        const std::string& zone) {
  if (auto a = FastAddress(type, value); a && !owner.empty() && owner.back() == '.') {
    ldns_rr* rr = ldns_rr_new();
    ldns_rr_set_owner(rr, ldns_dname_new_frm_str(owner.c_str()));
    ldns_rr_set_type(rr, a->family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, static_cast<uint32_t>(ttl));
    ldns_rr_push_rdf(
        rr, ldns_rdf_new_frm_data(a->family == AF_INET ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, a->size(), a->bytes));
    return rr;
  }
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
  if (auto a = FastAddress(type, value)) {  // as ldns prints an address: inet_ntop
    char text[INET6_ADDRSTRLEN];
    if (::inet_ntop(a->family, a->bytes, text, sizeof text)) return std::string(text);
  }
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

std::size_t UpdateSizeBound(const RRsetChange& change, const std::string& zone) {
  const RRset& any = change.before ? *change.before : *change.after;
  std::string z = AbsoluteZone(zone);
  // The owner's labels ahead of the zone and a 2-byte pointer; a name outside the zone whole.
  bool inside = any.owner.size() >= z.size() && any.owner.compare(any.owner.size() - z.size(), z.size(), z) == 0 &&
                (any.owner.size() == z.size() || z == "." || any.owner[any.owner.size() - z.size() - 1] == '.');
  std::size_t owner = inside ? any.owner.size() - z.size() + 2 : any.owner.size() + 2;
  constexpr std::size_t kFixed = 10;  // type, class, TTL, rdata length
  auto rdata = [&](const std::string& v) -> std::size_t {
    if (any.type == "A") return 4;
    if (any.type == "AAAA") return 16;
    // A name made absolute against the zone, a TXT text split into strings of 255 with a
    // length byte each: never more than this.
    return v.size() + v.size() / 255 + z.size() + 2;
  };
  std::size_t size = 0;
  if (change.before)
    for (const std::string& v : change.before->values) size += owner + kFixed + rdata(v);  // prerequisite
  size += owner + kFixed;  // "RRset exists not" (created) or "delete the RRset"
  if (change.after)
    for (const std::string& v : change.after->values) size += owner + kFixed + rdata(v);
  return size;
}

namespace {

// One UPDATE, built and signed: the packet (its TSIG holds the MAC that signs the answer too)
// and its bytes.
struct Message {
  PktPtr packet;
  BufferPtr wire;
};

Result<Message> BuildUpdate(const std::string& zone, const Tsig& tsig, uint16_t id,
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
  Message m;
  m.packet.reset(
      ldns_update_pkt_new(ldns_dname_new_frm_str(z.c_str()), LDNS_RR_CLASS_IN, pre.get(), up.get(), nullptr));
  ldns_pkt_set_id(m.packet.get(), id);
  if (!tsig.empty()) {
    ldns_status s = ldns_pkt_tsig_sign(m.packet.get(), KeyName(tsig).c_str(), tsig.secret.c_str(), 300,
                                       TsigAlgorithm(tsig.algorithm).c_str(), nullptr);
    if (s != LDNS_STATUS_OK)
      return Error{"cannot sign the update with the TSIG key '" + tsig.name + "': " + StatusText(s) +
                   " (is tsig_secret base64?)"};
  }
  m.wire.reset(ldns_buffer_new(kMaxMessage + 1));
  if (ldns_pkt2buffer_wire(m.wire.get(), m.packet.get()) != LDNS_STATUS_OK)
    return Error{"cannot put the update of " + zone + " into a DNS message"};
  if (ldns_buffer_position(m.wire.get()) > kMaxMessage)
    return Error{"the update of " + zone + " for " + std::to_string(changes.size()) + " record sets came to " +
                 std::to_string(ldns_buffer_position(m.wire.get())) + " bytes, more than a DNS message holds (" +
                 std::to_string(kMaxMessage) + "); nothing was sent"};
  return m;
}

// What the server's answer (its bytes) to the UPDATE `sent` says.
Result<UpdateOutcome> Answered(const Server& server, const std::string& zone, const Tsig& tsig, const Message& sent,
                               ldns_pkt* answer, const uint8_t* wire, std::size_t size) {
  ldns_pkt_rcode rc = ldns_pkt_get_rcode(answer);
  if (!tsig.empty() && !ldns_pkt_tsig_verify(answer, wire, size, KeyName(tsig).c_str(), tsig.secret.c_str(),
                                             ldns_rr_rdf(ldns_pkt_tsig(sent.packet.get()), 3))) {
    // A refused key is answered unsigned.
    if (rc != LDNS_RCODE_NOERROR) return RcodeFailure(server, tsig, rc, "an update of " + zone);
    return SendFailure(server, tsig, LDNS_STATUS_CRYPTO_TSIG_BOGUS, "update " + zone);
  }
  if (rc == LDNS_RCODE_NOERROR) return UpdateOutcome::kDone;
  if (rc == LDNS_RCODE_NXRRSET || rc == LDNS_RCODE_YXRRSET || rc == LDNS_RCODE_NXDOMAIN || rc == LDNS_RCODE_YXDOMAIN)
    return UpdateOutcome::kChangedSincePlan;
  return RcodeFailure(server, tsig, rc, "an update of " + zone);
}

// Writes one message framed as DNS over TCP frames it (its length in 2 bytes first), never
// raising SIGPIPE when the server has closed the connection.
bool SendFramed(int fd, ldns_buffer* wire) {
  std::size_t n = ldns_buffer_position(wire);
  std::string frame;
  frame.reserve(n + 2);
  frame.push_back(static_cast<char>(n >> 8));
  frame.push_back(static_cast<char>(n & 0xff));
  frame.append(reinterpret_cast<const char*>(ldns_buffer_begin(wire)), n);
  for (std::size_t done = 0; done < frame.size();) {
    ssize_t k = ::send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(kTimeout.tv_sec * 1000)) > 0) continue;
      return false;
    }
    if (k <= 0) return false;
    done += static_cast<std::size_t>(k);
  }
  return true;
}

struct FdClose {
  int fd;
  ~FdClose() { ::close(fd); }
};

}  // namespace

std::vector<Result<UpdateOutcome>> UpdateAll(const Server& server, const std::string& zone, const Tsig& tsig,
                                             const std::vector<std::vector<RRsetChange>>& messages) {
  std::vector<Result<UpdateOutcome>> out(messages.size(), Error{"not sent"});
  if (messages.empty()) return out;
  Error unreachable = SendFailure(server, tsig, LDNS_STATUS_NETWORK_ERR, "update " + zone);
  auto addr = Address(server.host);
  if (!addr) return std::vector<Result<UpdateOutcome>>(messages.size(), addr.error());
  std::size_t to_size = 0;
  std::unique_ptr<sockaddr_storage, decltype(&free)> to(
      ldns_rdf2native_sockaddr_storage(addr->get(), static_cast<uint16_t>(server.port), &to_size), &free);
  int fd = to ? ldns_tcp_connect2(to.get(), static_cast<socklen_t>(to_size), kTimeout) : -1;
  if (fd < 0) return std::vector<Result<UpdateOutcome>>(messages.size(), unreachable);
  FdClose closing{fd};
  // Small writes each way, while the other side has some unacknowledged: without these, Nagle's
  // algorithm holds a write back until the ACK that the other side delays (40 ms on Linux). The
  // server (BIND) does not set TCP_NODELAY, so its answers are ACKed at once here instead (a
  // quick ACK lasts only a while: set again before each answer is read).
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  // The socket blocks: a server that stops reading must not hold a send (and the run) forever.
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kTimeout, sizeof kTimeout);
  // Each message goes as soon as it is built, before the answers to those ahead of it: the
  // server applies one while the next is built (RFC 7766 6.2.1.1, pipelining). Answers may come
  // in any order; the message ID says whose each is.
  std::vector<Message> sent(messages.size());
  std::map<uint16_t, std::size_t> waiting;  // message ID → index
  uint16_t first = ldns_get_random();
  bool cut = false;  // a send failed: the connection is gone, nothing more goes
  for (std::size_t i = 0; i < messages.size(); ++i) {
    uint16_t id = static_cast<uint16_t>(first + i);
    auto m = cut ? Result<Message>(unreachable) : BuildUpdate(zone, tsig, id, messages[i]);
    if (!m) {
      out[i] = m.error();
      continue;
    }
    if (!SendFramed(fd, m->wire.get())) {
      out[i] = unreachable;
      cut = true;
      continue;
    }
    sent[i] = std::move(*m);
    waiting[id] = i;
  }
  std::size_t answers = 0;
  while (!waiting.empty()) {
    std::size_t size = 0;
    ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
    std::unique_ptr<uint8_t, decltype(&free)> wire(ldns_tcp_read_wire_timeout(fd, &size, kTimeout), &free);
    if (!wire) break;  // the connection closed, or no answer in time: those waiting say so below
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, wire.get(), size) != LDNS_STATUS_OK) continue;
    PktPtr answer(raw);
    auto it = waiting.find(ldns_pkt_id(answer.get()));
    if (it == waiting.end()) continue;
    out[it->second] = Answered(server, zone, tsig, sent[it->second], answer.get(), wire.get(), size);
    waiting.erase(it);
    ++answers;
  }
  // Answers came, but not to all: a server that does not pipeline. The rest go again, each on a
  // connection of its own.
  for (const auto& [id, i] : waiting)
    out[i] = answers > 0 ? UpdateAll(server, zone, tsig, {messages[i]})[0] : Result<UpdateOutcome>(unreachable);
  return out;
}

Result<UpdateOutcome> Update(const Server& server, const std::string& zone, const Tsig& tsig,
                             const std::vector<RRsetChange>& changes) {
  return UpdateAll(server, zone, tsig, {changes})[0];
}

}  // namespace reconcile::dns
