// Tests of one spec fragment written after kHeader: the first error, and whether it loads.
#pragma once

#include <string>

#include <doctest/doctest.h>

#include "tests/support/test_world.h"

namespace reconcile {

// For tests of one spec fragment `body` written after kHeader (so its lines count from 4):
// the first error as TestWorld::FirstError gives it, and whether it loads (doctest shows the
// errors when it does not).
namespace after_header {
inline std::string FirstError(const std::string& body) { return TestWorld().FirstError(std::string(kHeader) + body); }
inline bool Loads(const std::string& body) {
  std::string errors = TestWorld::Errors(TestWorld().Load(std::string(kHeader) + body));
  INFO(errors);
  return errors.empty();
}
}  // namespace after_header

}  // namespace reconcile
