#include "providers/service/service_names.h"
#include "engine/diagnostics.h"

#include <algorithm>

namespace reconcile {

namespace {

bool Alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// What both refuse, worded for either.
std::string Common(const std::string& name) {
  if (name.empty()) return "is empty; name the systemd unit or supervisor program";
  if (name[0] == '-') return "starts with '-', which systemctl and supervisorctl would read as an option, not a name";
  return "";
}

}  // namespace

std::string SystemdUnitNameProblem(const std::string& name) {
  if (std::string why = Common(name); !why.empty()) return why;
  if (name.size() > 255) return "is longer than the 255 characters systemd allows in a unit name";
  for (char c : name)
    if (!Alnum(c) && std::string_view(":-_.\\@").find(c) == std::string_view::npos)
      return "holds " + CharShown(c) +
             "; a systemd unit name holds letters, digits and ':', '-', '_', '.', '\\', '@' only";
  return "";
}

std::string SupervisorProgramNameProblem(const std::string& name) {
  if (std::string why = Common(name); !why.empty()) return why;
  if (name == "all") return "is \"all\", which supervisorctl reads as every program it runs";
  if (std::count(name.begin(), name.end(), ':') > 1) return "holds more than one ':'; write PROGRAM or GROUP:PROGRAM";
  if (name.front() == ':' || name.back() == ':') return "has an empty group or program around its ':'";
  for (char c : name)
    if (!Alnum(c) && std::string_view(":-_.@").find(c) == std::string_view::npos)
      return "holds " + CharShown(c) +
             "; a supervisor program name holds letters, digits and '-', '_', '.', '@' only (GROUP:PROGRAM for a "
             "group's program; '*' and \"all\" would name many)";
  return "";
}

std::string CheckServiceName(const std::string& name, const AttrMap& resource) {
  auto it = resource.find("manager");
  const std::string* manager = it == resource.end() ? nullptr : AsString(it->second);
  if (manager && *manager == "systemd") return SystemdUnitNameProblem(name);
  if (manager && *manager == "supervisor") return SupervisorProgramNameProblem(name);
  if (std::string why = SystemdUnitNameProblem(name); !why.empty()) return why;
  if (std::string why = SupervisorProgramNameProblem(name); !why.empty())
    return why + " (with manager = \"systemd\" it is read as a unit name)";
  return "";
}

}  // namespace reconcile
