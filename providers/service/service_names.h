// What a service's name may be. It is passed to systemctl and supervisorctl as an argument:
// a name starting with '-' would be read as an option (`--root=/`), and supervisor's "all"
// or "group:*" would stop every program instead of one. Checked by the spec loader (file:
// line:col) and again by the provider once the host's manager is known.
#pragma once

#include <string>

#include "engine/value.h"

namespace reconcile {

// "" when `name` is a unit name systemd accepts ("nginx", "nginx.service", "getty@tty1",
// escapes such as "x\x2dy"), else what is wrong with it.
std::string SystemdUnitNameProblem(const std::string& name);

// "" when `name` names one supervisor program ("web", or "group:web"), else what is wrong.
std::string SupervisorProgramNameProblem(const std::string& name);

// The loader's check of `name`: by the resource's own manager when it names one, else a name
// that both would take (the host's manager is not known at validate time).
std::string CheckServiceName(const std::string& name, const AttrMap& resource);

}  // namespace reconcile
