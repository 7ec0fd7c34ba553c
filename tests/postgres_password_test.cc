// Whether a stored PostgreSQL password is the one a spec asks for, decided from the verifier
// alone. The verifiers are PostgreSQL 15's own, for the password "correct horse" and role "vec".
#include <doctest/doctest.h>

#include "providers/postgres/password.h"

using namespace reconcile::pg;

namespace {
const std::string kScram =
    "SCRAM-SHA-256$4096:l9zLeE5s7/BVPplqNmznPQ==$kM//crM8L/4uufma7TZER6NBCrA8TGbubKjK2X/ZJLA=:"
    "QL6HJoKBZTv2Q1xsJw+hWU1CN73MuM75sE1GxKuDmZs=";
const std::string kMd5 = "md5dda81278d591eafd728725b4fd963d08";
}  // namespace

TEST_CASE("a SCRAM verifier is recomputed from the plain password with its own salt") {
  CHECK(PasswordMatches(kScram, "correct horse", "vec"));
  CHECK_FALSE(PasswordMatches(kScram, "correct horsf", "vec"));
  CHECK_FALSE(PasswordMatches(kScram, "", "vec"));
  // A verifier given as the wanted password (a rollback's) is compared as text.
  CHECK(PasswordMatches(kScram, kScram, "vec"));
  CHECK_FALSE(PasswordMatches(kScram, kMd5, "vec"));
}

TEST_CASE("an md5 verifier depends on the role's name too") {
  CHECK(PasswordMatches(kMd5, "correct horse", "vec"));
  CHECK_FALSE(PasswordMatches(kMd5, "correct horse", "other"));
}

TEST_CASE("no password, damaged verifiers, and what counts as a verifier") {
  CHECK(PasswordMatches(std::nullopt, "", "vec"));
  CHECK_FALSE(PasswordMatches(std::nullopt, "x", "vec"));
  CHECK_FALSE(PasswordMatches(std::string("SCRAM-SHA-256$4096:@@@$x:y"), "correct horse", "vec"));
  CHECK_FALSE(PasswordMatches(std::string("SCRAM-SHA-256$"), "correct horse", "vec"));
  CHECK(IsVerifier(kScram));
  CHECK(IsVerifier(kMd5));
  CHECK_FALSE(IsVerifier("md5 but not hex at all, 35 chars.."));
  CHECK_FALSE(IsVerifier("hunter2"));
}
