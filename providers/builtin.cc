#include "providers/builtin.h"

#include "providers/check/check_provider.h"
#include "providers/file/file_provider.h"

namespace reconcile {

Status RegisterBuiltinProviders(Registry* registry) {
  if (Status s = registry->Add(std::make_unique<FileProvider>()); !s) return s;
  if (Status s = registry->Add(std::make_unique<CheckProvider>()); !s) return s;
  return Status::Ok();
}

}  // namespace reconcile
