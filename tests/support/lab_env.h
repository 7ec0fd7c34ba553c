// What the lab started (tests/lab/lab.sh writes lab.env): ports, keys, paths. Integration
// tests read it; a missing lab fails the test loudly, it never skips.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "engine/provider.h"

namespace reconcile {

inline std::map<std::string, std::string> LabEnv() {
  const char* path = std::getenv("RECONCILE_LAB_ENV");
  if (!path) throw std::runtime_error("RECONCILE_LAB_ENV is not set: run this test through ctest (it starts the lab)");
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("the lab is not running: cannot read ") + path);
  std::map<std::string, std::string> env;
  std::string line;
  while (std::getline(in, line)) {
    std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    env[line.substr(0, eq)] = v;
  }
  return env;
}

// The lab's first sshd as a [host.lab], for transport tests.
inline HostConfig LabHost(const std::map<std::string, std::string>& env) {
  HostConfig h;
  h.name = "lab";
  h.address = "127.0.0.1";
  h.port = std::stoi(env.at("SSH_PORT"));
  h.user = env.at("SSH_USER");
  h.identity = env.at("SSH_IDENTITY");
  h.known_hosts = env.at("SSH_KNOWN_HOSTS");
  return h;
}

// The same host as spec text.
inline std::string LabHostToml(const std::map<std::string, std::string>& env) {
  return "[host.lab]\naddress = \"127.0.0.1\"\nport = " + env.at("SSH_PORT") + "\nuser = \"" + env.at("SSH_USER") +
         "\"\nidentity = \"" + env.at("SSH_IDENTITY") + "\"\nknown_hosts = \"" + env.at("SSH_KNOWN_HOSTS") + "\"\n";
}

}  // namespace reconcile
