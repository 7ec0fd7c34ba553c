#include "providers/ssh/ssh_connection.h"

#include <fcntl.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <type_traits>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "engine/hash.h"
#include "engine/os_calls.h"
#include "engine/spec/spec.h"  // ResolveSecret
#include "providers/ssh/host_from_config.h"

namespace reconcile {

namespace {

// Handshake and authentication block; after that, a protocol step (open, exec, close) may
// wait this long, and a command may stay silent for kCommandSilenceMs.
constexpr long kBlockingTimeoutMs = 60000;
constexpr long kStepTimeoutMs = 60000;
constexpr long kCommandSilenceMs = 10 * 60 * 1000;

long long NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int kConnectTimeoutMs = 10000;

std::string Expand(const std::string& path) {
  if (path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + path.substr(1);
  }
  return path;
}

std::string LastError(LIBSSH2_SESSION* s) {
  char* msg = nullptr;
  libssh2_session_last_error(s, &msg, nullptr, 0);
  return msg ? msg : "unknown libssh2 error";
}

// A key's SHA-256 digest as OpenSSH prints it.
std::string FingerprintText(std::string_view digest) {
  std::string out = Base64Encode(digest);
  while (!out.empty() && out.back() == '=') out.pop_back();
  return "SHA256:" + out;
}

std::string Fingerprint(LIBSSH2_SESSION* s) {
  const char* hash = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
  if (!hash) return "(unknown)";
  return FingerprintText(std::string_view(hash, 32));
}

// The fingerprint of the key a known_hosts entry holds (libssh2 keeps it in base64, as the
// file has it), so a changed key's error can show both.
std::string KnownFingerprint(const libssh2_knownhost* entry) {
  std::string blob;
  if (!entry || !entry->key || !Base64Decode(entry->key, &blob)) return "(unreadable)";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(blob.data(), blob.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "(unreadable)";
  return FingerprintText(std::string_view(reinterpret_cast<const char*>(digest), len));
}

int KnownHostKeyType(int hostkey_type) {
  switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
      return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS:
      return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
      return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default:
      return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
}

Result<int> ConnectTcp(const std::string& address, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) return Error{"cannot resolve " + address + ": " + gai_strerror(rc)};
  std::string last = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = ErrnoText(errno);
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, kConnectTimeoutMs) != 1) {
      last = "timed out after " + std::to_string(kConnectTimeoutMs / 1000) + " s";
      ::close(fd);
      continue;
    }
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = ErrnoText(err);
      ::close(fd);
      continue;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return Error{"cannot connect to " + address + ":" + std::to_string(port) + ": " + last};
}

// Whether a public key blob (the agent's) or a .pub file's first word is RSA: libssh2 1.10
// signs with RSA only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse.
bool IsRsaBlob(const unsigned char* blob, std::size_t len) {
  return len > 11 && std::string_view(reinterpret_cast<const char*>(blob) + 4, 7) == "ssh-rsa";
}

bool IsRsaFile(const std::string& pub) {
  std::ifstream in(pub);
  std::string type;
  in >> type;
  return type == "ssh-rsa";
}

// Whether a private key file needs a passphrase: PEM says ENCRYPTED; OpenSSH's own format
// names its cipher ("none" when not) right after its magic.
bool KeyIsEncrypted(const std::string& path) {
  std::ifstream in(path);
  std::string line, body;
  bool openssh = false;
  while (std::getline(in, line)) {
    if (line.find("ENCRYPTED") != std::string::npos) return true;
    if (line.find("BEGIN OPENSSH PRIVATE KEY") != std::string::npos) openssh = true;
    else if (openssh && line.find("-----") == std::string::npos) body += line;
  }
  std::string bytes;
  if (!openssh || !Base64Decode(body, &bytes)) return false;
  const std::string magic("openssh-key-v1\0", 15);
  if (bytes.size() < magic.size() + 8 || bytes.compare(0, magic.size(), magic) != 0) return false;
  std::size_t len = 0;
  for (int i = 0; i < 4; ++i) len = len << 8 | static_cast<unsigned char>(bytes[magic.size() + i]);
  return bytes.compare(magic.size() + 4, len, "none") != 0;
}

constexpr const char* kRsaNote =
    "; an RSA key will not do with this libssh2 against OpenSSH 8.8 or later (it signs with SHA-1, "
    "which they refuse): use an ed25519 or ECDSA key";

// With ssh-agent's keys, in its order, as ssh does when no key is named.
Status AgentAuthenticate(LIBSSH2_SESSION* s, const std::string& user) {
  const char* sock = std::getenv("SSH_AUTH_SOCK");
  LIBSSH2_AGENT* agent = libssh2_agent_init(s);
  if (!agent) return Error{"cannot use ssh-agent: " + LastError(s)};
  struct Free {
    LIBSSH2_AGENT* a;
    ~Free() {
      libssh2_agent_disconnect(a);
      libssh2_agent_free(a);
    }
  } free_agent{agent};
  if (libssh2_agent_connect(agent) != 0)
    return Error{"cannot reach ssh-agent at SSH_AUTH_SOCK=" + std::string(sock ? sock : "") +
                 ": is it running? (ssh-add -l asks it) Or name a key: identity = \"~/.ssh/id_ed25519\""};
  if (libssh2_agent_list_identities(agent) != 0) return Error{"ssh-agent did not list its keys: " + LastError(s)};
  libssh2_agent_publickey* id = nullptr;
  libssh2_agent_publickey* prev = nullptr;
  int tried = 0;
  bool rsa = false;
  while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
    ++tried;
    rsa = rsa || IsRsaBlob(id->blob, id->blob_len);
    if (libssh2_agent_userauth(agent, user.c_str(), id) == 0) return Status::Ok();
    prev = id;
  }
  if (tried == 0)
    return Error{"ssh-agent holds no keys (SSH_AUTH_SOCK=" + std::string(sock ? sock : "") +
                 "): add yours with ssh-add, or name one: identity = \"~/.ssh/id_ed25519\""};
  return Error{"public key authentication as " + user + " failed with each of ssh-agent's " + std::to_string(tried) +
               " key(s) (ssh-add -l lists them). Check that one is in the server's authorized_keys" +
               (rsa ? kRsaNote : "")};
}

Status Authenticate(LIBSSH2_SESSION* s, const HostConfig& host, const std::string& user) {
  const char* sock = std::getenv("SSH_AUTH_SOCK");
  if (host.identity.empty() && sock && *sock) {
    Status agent = AgentAuthenticate(s, user);
    // As ssh does: the default key file after the agent's keys.
    std::string fallback = Expand(kSshIdentity);
    if (agent || !std::filesystem::exists(fallback)) return agent;
    HostConfig with_file = host;
    with_file.identity = fallback;
    Status file = Authenticate(s, with_file, user);
    if (file) return file;
    return Error{agent.message() + "; and then " + file.message()};
  }
  std::string identity = Expand(host.identity.empty() ? kSshIdentity : host.identity);
  std::string pub = identity + ".pub";
  bool encrypted = KeyIsEncrypted(identity);
  if (encrypted && host.identity_passphrase.empty())
    return Error{"the key " + identity + " is passphrase-protected: give identity_passphrase = \"env:NAME\" on [host." +
                 host.name + "], or leave identity out and let ssh-agent hold it (ssh-add " + identity + ")"};
  std::string passphrase;
  if (!host.identity_passphrase.empty()) {
    auto secret = ResolveSecret(host.identity_passphrase, "");
    if (!secret) return Error{"identity_passphrase: " + secret.error().message};
    passphrase = std::move(*secret);
  }
  int rc = libssh2_userauth_publickey_fromfile(s, user.c_str(), std::filesystem::exists(pub) ? pub.c_str() : nullptr,
                                               identity.c_str(), passphrase.empty() ? nullptr : passphrase.c_str());
  OPENSSL_cleanse(passphrase.data(), passphrase.size());
  if (rc == 0) return Status::Ok();
  if (!std::filesystem::exists(identity))
    return Error{"the key " + identity + " does not exist" +
                 (host.identity.empty() ? std::string(" (no identity is named and SSH_AUTH_SOCK is not set, so "
                                                      "no ssh-agent either): name one, or start ssh-agent and ssh-add")
                                        : std::string())};
  if (encrypted)
    return Error{"public key authentication as " + user + " with " + identity + " failed: " + LastError(s) +
                 ". Check identity_passphrase (the key is passphrase-protected), and that the key is in the server's "
                 "authorized_keys"};
  if (rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED) {
    return Error{"cannot read the key " + identity + ": " + LastError(s) +
                 (host.identity_passphrase.empty()
                      ? ". If it is passphrase-protected, give identity_passphrase = \"env:NAME\" on [host." +
                            host.name + "], or leave identity out and let ssh-agent hold it"
                      : ". Check identity_passphrase")};
  }
  return Error{"public key authentication as " + user + " with " + identity + " failed: " + LastError(s) +
               ". Check that the key is in the server's authorized_keys" + (IsRsaFile(pub) ? kRsaNote : "")};
}

}  // namespace

Result<std::unique_ptr<SshConnection>> SshConnection::Open(const HostConfig& host, const std::string& describe) {
  static std::once_flag once;
  std::call_once(once, [] { libssh2_init(0); });
  std::unique_ptr<SshConnection> c(new SshConnection);
  if (host.via) {
    // Through the jump host's connection: this session speaks over one end of a socket pair,
    // and a thread carries the other end's bytes over a direct-tcpip channel to the target.
    auto via = JumpConnection(*host.via);
    if (!via) return Error{"host " + describe + ": through its jump host: " + via.error().message};
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
      return Error{"host " + describe + ": " + ErrnoText(errno)};
    c->via_ = *via;
    c->fd_ = pair[0];
    c->pump_fd_ = pair[1];
    SshConnection* self = c.get();
    std::string address = host.address;
    int port = host.port;
    c->pump_ = std::thread([self, address, port] {
      Status s = self->via_->Forward(self->pump_fd_, address, port, self->pump_stop_, true);
      if (!s) {
        std::lock_guard<std::mutex> g(self->pump_mu_);
        self->pump_error_ = s.message();
      }
      ::shutdown(self->pump_fd_, SHUT_RDWR);  // this session sees the end
    });
  } else {
    auto fd = ConnectTcp(host.address, host.port);
    if (!fd) return Error{"host " + describe + ": " + fd.error().message};
    c->fd_ = *fd;
  }
  const int* fd = &c->fd_;
  c->wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  c->session_ = libssh2_session_init();
  LIBSSH2_SESSION* s = c->session_;
  libssh2_session_set_blocking(s, 1);
  libssh2_session_set_timeout(s, kBlockingTimeoutMs);
  auto fail = [&](const std::string& why) -> Error { return Error{"host " + describe + ": " + why}; };
  if (libssh2_session_handshake(s, *fd) != 0) {
    if (std::string hop = c->HopError(); !hop.empty())
      return fail("the jump host " + host.via->name + " could not reach " + host.address + ":" +
                  std::to_string(host.port) + ": " + hop);
    return fail("SSH handshake failed: " + LastError(s));
  }

  // The host key, against known_hosts: no trust on first use unless the spec asks.
  std::size_t key_len = 0;
  int key_type = 0;
  const char* key = libssh2_session_hostkey(s, &key_len, &key_type);
  std::string known = Expand(host.known_hosts.empty() ? kSshKnownHosts : host.known_hosts);
  std::string fingerprint = Fingerprint(s);
  std::string where = host.port == kSshPort ? host.address : "[" + host.address + "]:" + std::to_string(host.port);
  LIBSSH2_KNOWNHOSTS* hosts = libssh2_knownhost_init(s);
  libssh2_knownhost_readfile(hosts, known.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
  libssh2_knownhost* match = nullptr;
  // Asked for the name exactly as OpenSSH writes it ("[host]:port" off port 22), with no port:
  // given one, libssh2 falls back to the plain host's entry, so a key known for port 22 would
  // be taken for another server's on the same address.
  int check = libssh2_knownhost_checkp(hosts, where.c_str(), -1, key, key_len,
                                       LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, &match);
  if (check != LIBSSH2_KNOWNHOST_CHECK_MATCH && !host.host_key_fingerprint.empty() &&
      host.host_key_fingerprint == fingerprint)
    check = LIBSSH2_KNOWNHOST_CHECK_MATCH;  // declared in the spec: a server rebuilt in the cutover
  if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
    // The entry of the same key type when there is one (known_hosts often holds several for a
    // host, and libssh2 names the first of any type).
    libssh2_knownhost* same_type = nullptr;
    int again = libssh2_knownhost_checkp(
        hosts, where.c_str(), -1, key, key_len,
        LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | KnownHostKeyType(key_type), &same_type);
    std::string was =
        again == LIBSSH2_KNOWNHOST_CHECK_MISMATCH && same_type ? KnownFingerprint(same_type) : KnownFingerprint(match);
    libssh2_knownhost_free(hosts);
    return fail("the host key CHANGED: " + known + " holds another key for " + where + " (" + was +
                "); the server now shows " + fingerprint +
                ". This is what an impostor looks like, or a reinstalled server: refusing. If you "
                "know why it changed, remove the old entry (ssh-keygen -R '" +
                where + "' -f " + known + ") and trust the new one after checking its fingerprint" +
                (host.host_key_fingerprint.empty()
                     ? ", or declare it: host_key_fingerprint = \"" + fingerprint + "\" on [host." + host.name + "]"
                     : "; host_key_fingerprint on [host." + host.name + "] says " + host.host_key_fingerprint));
  }
  if (check != LIBSSH2_KNOWNHOST_CHECK_MATCH) {
    if (!host.host_key_fingerprint.empty()) {
      // Declared: that key or none, first use or not.
      libssh2_knownhost_free(hosts);
      return fail("its host key " + fingerprint + " is not the one host_key_fingerprint on [host." + host.name +
                  "] declares (" + host.host_key_fingerprint + ") nor in " + known +
                  ": refusing. Check the fingerprint with the server's owner");
    }
    if (!host.trust_on_first_use) {
      libssh2_knownhost_free(hosts);
      return fail("its host key is not in " + known + " (fingerprint " + fingerprint +
                  "). Check the fingerprint "
                  "with the server's owner, then add it: ssh-keyscan -p " +
                  std::to_string(host.port) + " " + host.address + " >> " + known +
                  " — or set trust_on_first_use = true on [host." + host.name + "] to accept it this once");
    }
    libssh2_knownhost_addc(hosts, where.c_str(), nullptr, key, key_len, nullptr, 0,
                           LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | KnownHostKeyType(key_type),
                           nullptr);
    libssh2_knownhost_writefile(hosts, known.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
  }
  libssh2_knownhost_free(hosts);

  std::string user = host.user.empty() ? (std::getenv("USER") ? std::getenv("USER") : "root") : host.user;
  if (Status auth = Authenticate(s, host, user); !auth) return fail(auth.message());
  libssh2_session_set_blocking(s, 0);
  return c;
}

SshConnection::~SshConnection() {
  if (session_) {
    // Best effort and brief: the connection may be the one that dropped.
    libssh2_session_set_blocking(session_, 1);
    libssh2_session_set_timeout(session_, 2000);
    if (sftp_) libssh2_sftp_shutdown(sftp_);
    libssh2_session_disconnect(session_, "reconcile done");
    libssh2_session_free(session_);
  }
  (void)HopError();
  if (fd_ >= 0) ::close(fd_);
  if (pump_fd_ >= 0) ::close(pump_fd_);
  if (wake_ >= 0) ::close(wake_);
}

std::string SshConnection::HopError() {
  if (pump_.joinable()) {
    pump_stop_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // the pump sees the end, whatever it waits on
    pump_.join();
  }
  std::lock_guard<std::mutex> g(pump_mu_);
  return pump_error_;
}

Result<std::shared_ptr<SshConnection>> SshConnection::JumpConnection(const HostConfig& jump) {
  // One connection to a jump host serves every host behind it, for as long as one uses it.
  // Each is opened under a lock of its own, not the table's: hosts behind different jump
  // hosts connect side by side, and a chain (a jump host behind another) opens its next hop
  // while this one waits.
  struct Slot {
    std::mutex mu;
    std::weak_ptr<SshConnection> conn;
  };
  static std::mutex table_mu;
  static std::map<std::string, std::shared_ptr<Slot>> table;
  thread_local std::vector<std::string> opening;  // the hops this thread is opening, in order
  std::string key = jump.name + "@" + jump.address + ":" + std::to_string(jump.port);
  if (std::find(opening.begin(), opening.end(), key) != opening.end())
    return Error{"the jump hosts go round in a loop through " + jump.name + " (check ProxyJump in the ssh config)"};
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard<std::mutex> g(table_mu);
    auto& s = table[key];
    if (!s) s = std::make_shared<Slot>();
    slot = s;
  }
  std::lock_guard<std::mutex> g(slot->mu);
  if (auto alive = slot->conn.lock(); alive && !alive->broken_) return alive;
  auto configured = WithSshConfig(jump);
  if (!configured) return Error{"host " + jump.name + ": " + configured.error().message};
  opening.push_back(key);
  auto c = Open(*configured, DescribeHost(*configured));
  opening.pop_back();
  if (!c) return c.error();
  std::shared_ptr<SshConnection> shared(std::move(*c));
  slot->conn = shared;
  return shared;
}

void SshConnection::Moved() {
  ++generation_;
  if (polling_) {
    std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
  }
  cv_.notify_all();
}

bool SshConnection::Wait(Lock& lk, long long deadline_ms, int also, short also_events) {
  long long left = deadline_ms - NowMs();
  if (left <= 0) return false;
  if (polling_) {
    unsigned long long seen = generation_;
    if (also >= 0) {
      // Another thread polls the SSH socket; watch our own socket in short rounds between.
      lk.unlock();
      pollfd fd{also, also_events, 0};
      ::poll(&fd, 1, static_cast<int>(std::min<long long>(left, 10)));
      lk.lock();
      return true;
    }
    cv_.wait_for(lk, std::chrono::milliseconds(left), [&] { return generation_ != seen || !polling_; });
    return true;
  }
  polling_ = true;
  int dirs = libssh2_session_block_directions(session_);
  short events = POLLIN;
  if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) events |= POLLOUT;
  lk.unlock();
  pollfd fds[3] = {{fd_, events, 0}, {wake_, POLLIN, 0}, {also, also_events, 0}};
  // Short rounds: a call that said EAGAIN wakes nobody (waiters waking each other would spin),
  // yet it may have read packets meant for a waiter; the next round picks those up.
  ::poll(fds, also >= 0 ? 3 : 2, static_cast<int>(std::min<long long>(left, 50)));
  if (fds[1].revents & POLLIN) {
    std::uint64_t n;
    (void)!::read(wake_, &n, sizeof n);
  }
  lk.lock();
  polling_ = false;
  ++generation_;
  cv_.notify_all();
  return true;
}

// Calls `op` until it stops saying EAGAIN (for pointer results: null with EAGAIN as the
// session's last error) or the deadline passes; then returns what it last returned.
template <class Op>
auto SshConnection::Retry(Lock& lk, long long deadline_ms, Op op) -> decltype(op()) {
  while (true) {
    auto rc = op();
    bool again;
    if constexpr (std::is_pointer_v<decltype(rc)>)
      again = !rc && libssh2_session_last_errno(session_) == LIBSSH2_ERROR_EAGAIN;
    else again = rc == LIBSSH2_ERROR_EAGAIN;
    if (!again) Moved();
    if (!again || !Wait(lk, deadline_ms)) return rc;
  }
}

SshConnection::ChannelSlot::ChannelSlot(SshConnection* c, Lock& lk) : c_(c) {
  c_->cv_.wait(lk, [&] { return c_->channels_ < kMaxChannels; });
  ++c_->channels_;
}

// Runs under the connection's lock, like the constructor.
SshConnection::ChannelSlot::~ChannelSlot() {
  --c_->channels_;
  c_->cv_.notify_all();
}

// libssh2 keeps the state of a channel being opened in the session, not the channel: a second
// open begun while one waits for the server would carry on the first one's (and might hand a
// tunnel's channel to a command). One open at a time, then.
template <class Op>
LIBSSH2_CHANNEL* SshConnection::OpenChannel(Lock& lk, Op open) {
  cv_.wait(lk, [&] { return !opening_; });
  opening_ = true;
  LIBSSH2_CHANNEL* ch = Retry(lk, NowMs() + kStepTimeoutMs, open);
  opening_ = false;
  cv_.notify_all();
  return ch;
}

Result<CommandResult> SshConnection::Exec(const std::string& command, const std::string& input, bool* started) {
  // The input as one piece, then its end; the output kept whole.
  bool given = false;
  CommandStreams streams;
  streams.input = [&]() -> Result<std::string> {
    if (given) return std::string();
    given = true;
    return input;
  };
  return ExecStreamed(command, streams, started);
}

Result<CommandResult> SshConnection::ExecStreamed(const std::string& command, const CommandStreams& streams,
                                                  bool* started) {
  Lock lk(mu_);
  ChannelSlot slot(this, lk);
  LIBSSH2_CHANNEL* ch = OpenChannel(lk, [&] { return libssh2_channel_open_session(session_); });
  if (!ch) return Error{"cannot open a channel: " + LastError(session_)};
  auto fail = [&](const std::string& why) -> Error {
    libssh2_channel_free(ch);
    return Error{why};
  };
  *started = true;
  if (Retry(lk, NowMs() + kStepTimeoutMs, [&] { return libssh2_channel_exec(ch, command.c_str()); }) != 0)
    return fail("cannot run a command: " + LastError(session_));

  // Input, output and error side by side, so neither side can stall the other on a full window.
  // The next piece of input is asked for (and each piece of output handed on) with the lock
  // released: the other end of a copy may be a channel of this same connection.
  CommandResult r;
  std::string in;
  std::size_t sent = 0;
  bool in_end = !streams.input, eof_sent = false;
  long long deadline = NowMs() + kCommandSilenceMs;
  char buf[32768];
  while (true) {
    bool moved = false;
    if (sent == in.size() && !in_end) {
      lk.unlock();
      Result<std::string> piece = streams.input();
      lk.lock();
      if (!piece) return fail(piece.error().message);
      in = std::move(*piece), sent = 0, in_end = in.empty(), moved = true;
    }
    if (sent < in.size()) {
      ssize_t w = libssh2_channel_write(ch, in.data() + sent, in.size() - sent);
      if (w > 0) sent += static_cast<std::size_t>(w), moved = true;
      else if (w != LIBSSH2_ERROR_EAGAIN && w != 0) return fail("cannot send input: " + LastError(session_));
    } else if (in_end && !eof_sent) {
      int e = libssh2_channel_send_eof(ch);
      if (e == 0) eof_sent = moved = true;
      else if (e != LIBSSH2_ERROR_EAGAIN) return fail("cannot close the command's input: " + LastError(session_));
    }
    ssize_t out = libssh2_channel_read(ch, buf, sizeof buf);
    if (out > 0) {
      moved = true;
      if (streams.output) {
        lk.unlock();
        Status taken = streams.output(std::string_view(buf, static_cast<std::size_t>(out)));
        lk.lock();
        if (!taken) return fail(taken.message());
      } else {
        r.out.append(buf, static_cast<std::size_t>(out));
      }
    }
    ssize_t err = libssh2_channel_read_stderr(ch, buf, sizeof buf);
    if (err > 0) r.err.append(buf, static_cast<std::size_t>(err)), moved = true;
    if (moved) Moved();
    if ((out < 0 && out != LIBSSH2_ERROR_EAGAIN) || (err < 0 && err != LIBSSH2_ERROR_EAGAIN))
      return fail("the connection dropped while reading: " + LastError(session_));
    if (out == 0 && err == 0 && libssh2_channel_eof(ch)) break;
    if (moved) {
      deadline = NowMs() + kCommandSilenceMs;
      continue;
    }
    if (!Wait(lk, deadline))
      return fail("the command said nothing for " + std::to_string(kCommandSilenceMs / 60000) + " minutes");
  }
  Retry(lk, NowMs() + kStepTimeoutMs, [&] { return libssh2_channel_close(ch); });
  Retry(lk, NowMs() + kStepTimeoutMs, [&] { return libssh2_channel_wait_closed(ch); });
  r.exit_code = libssh2_channel_get_exit_status(ch);
  Retry(lk, NowMs() + kStepTimeoutMs, [&] { return libssh2_channel_free(ch); });
  return r;
}

Status SshConnection::Forward(int local, const std::string& host, int port, const std::atomic<bool>& stop, bool hop) {
  ::fcntl(local, F_SETFL, ::fcntl(local, F_GETFL) | O_NONBLOCK);
  Lock lk(mu_);
  std::optional<ChannelSlot> slot;
  if (!hop) slot.emplace(this, lk);
  LIBSSH2_CHANNEL* ch =
      OpenChannel(lk, [&] { return libssh2_channel_direct_tcpip_ex(session_, host.c_str(), port, "127.0.0.1", 0); });
  if (!ch) {
    // The server refusing this one channel (nothing listens there) says nothing of the
    // connection; anything else (a socket error, no answer in time) is the connection's.
    if (libssh2_session_last_errno(session_) != LIBSSH2_ERROR_CHANNEL_FAILURE) broken_ = true;
    return Error{"the SSH server would not connect on to " + host + ":" + std::to_string(port) + ": " +
                 LastError(session_)};
  }
  std::string to_remote, to_local;
  bool local_eof = false, eof_sent = false;
  std::string failure;
  const long long silence = hop ? 1000LL * 3600 * 24 * 365 : kCommandSilenceMs;
  long long deadline = NowMs() + silence;
  char buf[32768];
  while (!stop) {
    bool moved = false;
    if (to_remote.empty() && !local_eof) {
      ssize_t n = ::recv(local, buf, sizeof buf, 0);
      if (n > 0) to_remote.assign(buf, static_cast<std::size_t>(n)), moved = true;
      else if (n == 0 || (errno != EAGAIN && errno != EINTR)) local_eof = moved = true;
    }
    if (!to_remote.empty()) {
      ssize_t w = libssh2_channel_write(ch, to_remote.data(), to_remote.size());
      if (w > 0) to_remote.erase(0, static_cast<std::size_t>(w)), moved = true;
      else if (w != LIBSSH2_ERROR_EAGAIN && w != 0) {
        failure = "cannot send through the tunnel: " + LastError(session_);
        broken_ = true;
        break;
      }
    } else if (local_eof && !eof_sent) {
      int e = libssh2_channel_send_eof(ch);
      if (e == 0) eof_sent = moved = true;
      else if (e != LIBSSH2_ERROR_EAGAIN) break;
    }
    if (to_local.size() < sizeof buf) {
      ssize_t r = libssh2_channel_read(ch, buf, sizeof buf);
      if (r > 0) to_local.append(buf, static_cast<std::size_t>(r)), moved = true;
      else if (r < 0 && r != LIBSSH2_ERROR_EAGAIN) {
        failure = "the tunnel dropped: " + LastError(session_);
        broken_ = true;
        break;
      }
    }
    if (!to_local.empty()) {
      ssize_t n = ::send(local, to_local.data(), to_local.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) to_local.erase(0, static_cast<std::size_t>(n)), moved = true;
      else if (n < 0 && errno != EAGAIN && errno != EINTR) break;  // the local side went away
    }
    if (to_local.empty() && libssh2_channel_eof(ch)) break;
    if (moved) {
      Moved();
      deadline = NowMs() + silence;
      continue;
    }
    short events =
        static_cast<short>((local_eof || !to_remote.empty() ? 0 : POLLIN) | (to_local.empty() ? 0 : POLLOUT));
    if (!Wait(lk, deadline, events ? local : -1, events)) break;  // silent for the whole span: let it go
  }
  Retry(lk, NowMs() + kStepTimeoutMs, [&] { return libssh2_channel_close(ch); });
  Retry(lk, NowMs() + kStepTimeoutMs, [&] { return libssh2_channel_free(ch); });
  if (!failure.empty()) return Error{failure};
  return Status::Ok();
}

Status SshConnection::SftpWrite(const std::string& path, const std::string& content, long mode) {
  std::lock_guard<std::mutex> one_at_a_time(sftp_mu_);
  Lock lk(mu_);
  auto step = [] { return NowMs() + kStepTimeoutMs; };
  if (!sftp_) sftp_ = Retry(lk, step(), [&] { return libssh2_sftp_init(session_); });
  if (!sftp_) return Error{"cannot start SFTP: " + LastError(session_)};
  // Made anew, never opened where it lies: in a folder others write to, a link planted under
  // the name would have had what it names emptied and written. A name left by a run killed
  // while writing is removed first (the link itself, if it is one).
  Retry(lk, step(), [&] { return libssh2_sftp_unlink(sftp_, path.c_str()); });
  LIBSSH2_SFTP_HANDLE* h = Retry(lk, step(), [&] {
    return libssh2_sftp_open(sftp_, path.c_str(), LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, mode);
  });
  if (!h) {
    // The usual two causes, said so the operator knows what to do; the rest as libssh2 puts it.
    unsigned long code = libssh2_sftp_last_error(sftp_);
    std::string folder = path.substr(0, path.rfind('/') + 1);
    if (code == LIBSSH2_FX_NO_SUCH_FILE || code == LIBSSH2_FX_NO_SUCH_PATH)
      return Error{"cannot write in " + folder +
                   " over SFTP: the folder does not exist there; create it first "
                   "(a file resource writes files, not folders)"};
    if (code == LIBSSH2_FX_PERMISSION_DENIED)
      return Error{"cannot write in " + folder + " over SFTP: permission denied to this user"};
    return Error{"cannot create " + path + " over SFTP: " + LastError(session_)};
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = Retry(lk, step(), [&] { return libssh2_sftp_write(h, content.data() + done, content.size() - done); });
    if (n < 0) {
      std::string why = LastError(session_);
      Retry(lk, step(), [&] { return libssh2_sftp_close(h); });
      return Error{"cannot write " + path + " over SFTP: " + why};
    }
    done += static_cast<std::size_t>(n);
  }
  LIBSSH2_SFTP_ATTRIBUTES attrs{};
  attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
  attrs.permissions = static_cast<unsigned long>(mode);
  // The umask may have narrowed the mode given to open.
  Retry(lk, step(), [&] { return libssh2_sftp_fsetstat(h, &attrs); });
  Retry(lk, step(), [&] { return libssh2_sftp_fsync(h); });
  if (Retry(lk, step(), [&] { return libssh2_sftp_close(h); }) != 0)
    return Error{"cannot finish writing " + path + " over SFTP: " + LastError(session_)};
  return Status::Ok();
}

}  // namespace reconcile
