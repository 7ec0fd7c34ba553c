#include "providers/ssh/ssh_session.h"

#include <fcntl.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include <openssl/evp.h>

namespace reconcile {

namespace {

constexpr int kConnectTimeoutMs = 10000;
constexpr long kSessionTimeoutMs = 60000;

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

std::string Fingerprint(LIBSSH2_SESSION* s) {
  const char* hash = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
  if (!hash) return "(unknown)";
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, reinterpret_cast<const unsigned char*>(hash), 32);
  std::string out(reinterpret_cast<char*>(b64), static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  return "SHA256:" + out;
}

int KnownHostKeyType(int hostkey_type) {
  switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
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
      last = std::strerror(errno);
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
      last = std::strerror(err);
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

}  // namespace

std::string ShellQuote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:@,+%") ==
                          std::string::npos)
    return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ShellCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + ShellQuote(a);
  return out;
}

struct SshSession::Impl {
  int fd = -1;
  LIBSSH2_SESSION* session = nullptr;
  LIBSSH2_SFTP* sftp = nullptr;
};

SshSession::SshSession(HostConfig host) : host_(std::move(host)) {
  static std::once_flag once;
  std::call_once(once, [] { libssh2_init(0); });
}

SshSession::~SshSession() {
  std::lock_guard<std::mutex> g(mu_);
  DisconnectLocked();
}

std::string SshSession::Describe() const {
  return host_.name + " (" + (host_.user.empty() ? "" : host_.user + "@") + host_.address + ":" +
         std::to_string(host_.port) + ")";
}

Status SshSession::Connect() {
  std::lock_guard<std::mutex> g(mu_);
  return ConnectLocked();
}

void SshSession::DisconnectLocked() {
  if (!impl_) return;
  if (impl_->sftp) libssh2_sftp_shutdown(impl_->sftp);
  if (impl_->session) {
    libssh2_session_disconnect(impl_->session, "reconcile done");
    libssh2_session_free(impl_->session);
  }
  if (impl_->fd >= 0) ::close(impl_->fd);
  impl_.reset();
}

Status SshSession::ConnectLocked() {
  if (impl_) return Status::Ok();
  auto fd = ConnectTcp(host_.address, host_.port);
  if (!fd) return Error{"host " + host_.name + ": " + fd.error().message};
  auto impl = std::make_unique<Impl>();
  impl->fd = *fd;
  impl->session = libssh2_session_init();
  LIBSSH2_SESSION* s = impl->session;
  libssh2_session_set_blocking(s, 1);
  libssh2_session_set_timeout(s, kSessionTimeoutMs);
  auto fail = [&](const std::string& why) -> Status {
    impl_ = std::move(impl);
    DisconnectLocked();
    return Error{"host " + Describe() + ": " + why};
  };
  if (libssh2_session_handshake(s, *fd) != 0) return fail("SSH handshake failed: " + LastError(s));

  // The host key, against known_hosts: no trust on first use unless the spec asks.
  std::size_t key_len = 0;
  int key_type = 0;
  const char* key = libssh2_session_hostkey(s, &key_len, &key_type);
  std::string known = Expand(host_.known_hosts.empty() ? "~/.ssh/known_hosts" : host_.known_hosts);
  std::string fingerprint = Fingerprint(s);
  std::string where = host_.port == 22 ? host_.address : "[" + host_.address + "]:" + std::to_string(host_.port);
  LIBSSH2_KNOWNHOSTS* hosts = libssh2_knownhost_init(s);
  libssh2_knownhost_readfile(hosts, known.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
  libssh2_knownhost* match = nullptr;
  int check = libssh2_knownhost_checkp(hosts, host_.address.c_str(), host_.port, key, key_len,
                                       LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, &match);
  if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
    libssh2_knownhost_free(hosts);
    return fail("the host key CHANGED: " + known + " holds another key for " + where + "; the server now shows " +
                fingerprint + ". This is what an impostor looks like, or a reinstalled server: refusing. If you "
                "know why it changed, remove the old entry (ssh-keygen -R '" + where + "' -f " + known +
                ") and trust the new one after checking its fingerprint");
  }
  if (check != LIBSSH2_KNOWNHOST_CHECK_MATCH) {
    if (!host_.trust_on_first_use) {
      libssh2_knownhost_free(hosts);
      return fail("its host key is not in " + known + " (fingerprint " + fingerprint + "). Check the fingerprint "
                  "with the server's owner, then add it: ssh-keyscan -p " + std::to_string(host_.port) + " " +
                  host_.address + " >> " + known + " — or set trust_on_first_use = true on [host." + host_.name +
                  "] to accept it this once");
    }
    libssh2_knownhost_addc(hosts, where.c_str(), nullptr, key, key_len, nullptr, 0,
                           LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | KnownHostKeyType(key_type),
                           nullptr);
    libssh2_knownhost_writefile(hosts, known.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
  }
  libssh2_knownhost_free(hosts);

  std::string identity = Expand(host_.identity.empty() ? "~/.ssh/id_ed25519" : host_.identity);
  std::string pub = identity + ".pub";
  std::string user = host_.user.empty() ? (std::getenv("USER") ? std::getenv("USER") : "root") : host_.user;
  if (libssh2_userauth_publickey_fromfile(s, user.c_str(), std::filesystem::exists(pub) ? pub.c_str() : nullptr,
                                          identity.c_str(), nullptr) != 0) {
    return fail("public key authentication as " + user + " with " + identity + " failed: " + LastError(s) +
                ". Check that the key is in the server's authorized_keys; an RSA key will not do with this "
                "libssh2 against OpenSSH 8.8 or later (it signs with SHA-1): use an ed25519 or ECDSA key");
  }
  impl_ = std::move(impl);
  return Status::Ok();
}

Result<CommandResult> SshSession::RunLocked(const std::string& command, const std::string& input) {
  LIBSSH2_SESSION* s = impl_->session;
  LIBSSH2_CHANNEL* ch = libssh2_channel_open_session(s);
  if (!ch) return Error{"cannot open a channel: " + LastError(s)};
  CommandResult r;
  if (libssh2_channel_exec(ch, command.c_str()) != 0) {
    libssh2_channel_free(ch);
    return Error{"cannot run a command: " + LastError(s)};
  }
  std::size_t sent = 0;
  while (sent < input.size()) {
    ssize_t n = libssh2_channel_write(ch, input.data() + sent, input.size() - sent);
    if (n < 0) {
      libssh2_channel_free(ch);
      return Error{"cannot send input: " + LastError(s)};
    }
    sent += static_cast<std::size_t>(n);
  }
  libssh2_channel_send_eof(ch);
  // Blocking reads: all of stdout, then stderr (providers keep stderr small).
  char buf[16384];
  ssize_t n;
  while ((n = libssh2_channel_read(ch, buf, sizeof buf)) > 0) r.out.append(buf, static_cast<std::size_t>(n));
  if (n < 0) {
    libssh2_channel_free(ch);
    return Error{"the connection dropped while reading: " + LastError(s)};
  }
  while ((n = libssh2_channel_read_stderr(ch, buf, sizeof buf)) > 0) r.err.append(buf, static_cast<std::size_t>(n));
  libssh2_channel_close(ch);
  libssh2_channel_wait_closed(ch);
  r.exit_code = libssh2_channel_get_exit_status(ch);
  libssh2_channel_free(ch);
  return r;
}

Result<CommandResult> SshSession::Run(const std::vector<std::string>& argv, const std::string& input) {
  std::vector<std::string> full = argv;
  if (host_.sudo) full.insert(full.begin(), {"sudo", "-n", "--"});
  std::string command = ShellCommand(full);
  std::lock_guard<std::mutex> g(mu_);
  // One reconnect: a connection that dropped between steps is re-opened once, then reported.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (Status s = ConnectLocked(); !s) return Error{s.message()};
    auto r = RunLocked(command, input);
    if (r) return r;
    DisconnectLocked();
    if (attempt == 1) return Error{"host " + Describe() + ": " + r.error().message + " (after one reconnect)"};
  }
  return Error{"unreachable"};
}

Status SshSession::SftpWriteLocked(const std::string& tmp, const FileWriteRequest& req) {
  LIBSSH2_SESSION* s = impl_->session;
  if (!impl_->sftp) impl_->sftp = libssh2_sftp_init(s);
  if (!impl_->sftp) return Error{"cannot start SFTP: " + LastError(s)};
  long mode = std::strtol(req.mode.c_str(), nullptr, 8);
  LIBSSH2_SFTP_HANDLE* h = libssh2_sftp_open(impl_->sftp, tmp.c_str(),
                                             LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, mode);
  if (!h) return Error{"cannot create " + tmp + " over SFTP: " + LastError(s)};
  std::size_t done = 0;
  while (done < req.content.size()) {
    ssize_t n = libssh2_sftp_write(h, req.content.data() + done, req.content.size() - done);
    if (n < 0) {
      libssh2_sftp_close(h);
      return Error{"cannot write " + tmp + " over SFTP: " + LastError(s)};
    }
    done += static_cast<std::size_t>(n);
  }
  LIBSSH2_SFTP_ATTRIBUTES attrs{};
  attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
  attrs.permissions = static_cast<unsigned long>(mode);
  libssh2_sftp_fsetstat(h, &attrs);  // the umask may have narrowed the mode given to open
  libssh2_sftp_fsync(h);
  libssh2_sftp_close(h);
  return Status::Ok();
}

Status SshSession::WriteFile(const FileWriteRequest& req) {
  std::filesystem::path p(req.path);
  std::string tmp = (p.parent_path() / ("." + p.filename().string() + ".reconcile-tmp")).string();
  if (!host_.sudo) {
    std::lock_guard<std::mutex> g(mu_);
    if (Status s = ConnectLocked(); !s) return s;
    if (Status s = SftpWriteLocked(tmp, req); !s) {
      DisconnectLocked();  // a fresh connection for whatever comes next
      return Error{"host " + Describe() + ": " + s.message()};
    }
  }
  // SFTP (v3) cannot rename over an existing file, and runs as the login user: the rename,
  // ownership — and with sudo the write itself — are one command in a (root) shell.
  std::string script = "set -e; t=\"$1\"; f=\"$2\"; ";
  std::string input;
  if (host_.sudo) {
    script += "umask 077; cat > \"$t\"; chmod \"$3\" \"$t\"; ";
    input = req.content;
  }
  if (req.owner || req.group) script += "chown \"$4\" \"$t\"; ";
  script += "mv -f \"$t\" \"$f\"";
  std::string owner = req.owner.value_or("") + (req.group ? ":" + *req.group : "");
  auto r = Run({"sh", "-c", script, "reconcile-write", tmp, req.path, req.mode, owner}, input);
  if (!r) return Error{r.error().message};
  if (r->exit_code != 0) {
    Run({"rm", "-f", tmp});
    return Error{"host " + Describe() + ": cannot write " + req.path + ": " + r->err};
  }
  return Status::Ok();
}

}  // namespace reconcile
