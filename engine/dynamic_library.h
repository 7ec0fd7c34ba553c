// A shared library opened the first time something needs it rather than when the program
// starts. libcurl and libpq pull in 28 libraries between them (GnuTLS, Kerberos, LDAP, SASL,
// nghttp2, ...); mapping and relocating them took ~4.5 ms of every command's start, a DNS
// apply included, which uses neither. Their functions are defined in reconcile as stubs of the
// same name (providers/http/libcurl.cc, engine/libpq.cc) that forward to the library
// once it is open, so the code that calls them reads as if it were linked to them.
#pragma once

#include <mutex>
#include <span>
#include <string>

#include "engine/result.h"

namespace reconcile {

class DynamicLibrary {
 public:
  // `soname` as the dynamic linker looks it up ("libcurl.so.4"); `install`, what to install
  // for it, for the error ("the libcurl4 package"); `use`, what needs it, for the same; `names`, every
  // function the stubs forward to (a library without one of them is not the one built for).
  DynamicLibrary(const char* soname, const char* install, const char* use, std::span<const char* const> names)
      : soname_(soname),
        install_(install),
        use_(use),
        names_(names) {}

  // Opens it and finds every name, once: later calls give the first call's outcome. An error
  // says what to install.
  Status Load();

  // The address a program linked to the library would call for `name`: a definition preloaded
  // ahead of the library (LD_PRELOAD) wins, as it would there. Loads the library if need be;
  // aborts, saying why, when it could not be loaded or `name` is not among `names`. Whatever
  // reaches a stub calls Load first where it can say the error to the operator (a request, a
  // connection, the spec's check), so an abort here is a bug, not the operator's.
  void* Symbol(const char* name);

 private:
  const char* soname_;
  const char* install_;
  const char* use_;
  std::span<const char* const> names_;
  std::once_flag once_;
  void* handle_ = nullptr;
  std::string error_;
};

// The stub's forwarding target, typed as the stub is: `static const auto real = Forward(lib, "f", &f);`.
template <class F>
F Forward(DynamicLibrary& lib, const char* name, F) {
  return reinterpret_cast<F>(lib.Symbol(name));
}

}  // namespace reconcile
