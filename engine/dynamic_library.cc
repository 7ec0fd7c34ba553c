#include "engine/dynamic_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace reconcile {

Status DynamicLibrary::Load() {
  std::call_once(once_, [this] {
    // RTLD_GLOBAL: the library's names join the program's search order, where Symbol finds them.
    void* handle = ::dlopen(soname_, RTLD_NOW | RTLD_GLOBAL);
    if (!handle) {
      const char* why = ::dlerror();
      error_ = std::string(use_) + " needs " + soname_ + ", which could not be loaded (" +
               (why ? why : "unknown reason") + "); install " + install_;
      return;
    }
    // All of them now: a library of that name from another build (an older version, a copy from
    // elsewhere) is said here, not as an abort at the first call it lacks, in the middle of a run.
    for (const char* name : names_) {
      if (!::dlsym(handle, name)) {
        error_ = std::string(use_) + " needs " + soname_ + ", but the one found has no " + name +
                 ": it is not a build this reconcile can use; install " + install_;
        return;
      }
    }
    handle_ = handle;
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
  if (std::none_of(names_.begin(), names_.end(), [&](const char* n) { return std::strcmp(n, name) == 0; })) {
    std::fprintf(stderr, "reconcile: internal error: a stub forwards %s, which is not among %s's names\n", name,
                 soname_);
    std::abort();
  }
  // RTLD_NEXT from here, inside the executable: the objects after it in the program's search
  // order, so a definition preloaded ahead of the library (the crash tests' PQexecParams) wins,
  // as it would were the library linked, and the stub calling this is never found again.
  void* f = ::dlsym(RTLD_NEXT, name);
  return f ? f : ::dlsym(handle_, name);
}

}  // namespace reconcile
