#include "engine/dynamic_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace reconcile {

Status DynamicLibrary::Load() {
  std::call_once(once_, [this] {
    // RTLD_GLOBAL: the library's names join the program's, so a preloaded definition (the
    // crash tests' PQexecParams) is found ahead of the library's own by RTLD_DEFAULT below.
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

void* DynamicLibrary::Symbol(const char* name, void* stub) {
  if (Status s = Load(); !s) {
    std::fprintf(stderr, "reconcile: internal error: %s called before its library was loaded: %s\n", name,
                 s.error().message.c_str());
    std::abort();
  }
  void* f = ::dlsym(RTLD_DEFAULT, name);
  if (!f || f == stub) f = ::dlsym(handle_, name);
  if (!f) {
    std::fprintf(stderr, "reconcile: %s has no %s: install the %s package this reconcile was built for\n", soname_,
                 name, package_);
    std::abort();
  }
  return f;
}

}  // namespace reconcile
