#include "engine/dynamic_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace reconcile {

Status DynamicLibrary::Load() {
  std::call_once(once_, [this] {
    // RTLD_GLOBAL: the library's names join the program's search order, where Symbol finds them.
    handle_ = ::dlopen(soname_, RTLD_NOW | RTLD_GLOBAL);
    if (!handle_) {
      const char* why = ::dlerror();
      error_ = std::string(use_) + " needs " + soname_ + ", which could not be loaded (" +
               (why ? why : "unknown reason") + "); install the " + package_ + " package";
    }
  });
  if (!handle_) return Error{error_, ErrorCode::kNotSupported};
  return Status::Ok();
}

void* DynamicLibrary::Symbol(const char* name) {
  if (Status s = Load(); !s) {
    std::fprintf(stderr, "reconcile: internal error: %s called where its library's absence was not checked: %s\n", name,
                 s.error().message.c_str());
    std::abort();
  }
  // RTLD_NEXT from here, inside the executable: the objects after it in the program's search
  // order, so a definition preloaded ahead of the library (the crash tests' PQexecParams) wins,
  // as it would were the library linked, and the stub calling this is never found again.
  void* f = ::dlsym(RTLD_NEXT, name);
  if (!f) f = ::dlsym(handle_, name);
  if (!f) {
    std::fprintf(stderr, "reconcile: %s has no %s: install the %s package this reconcile was built for\n", soname_,
                 name, package_);
    std::abort();
  }
  return f;
}

}  // namespace reconcile
