// Names that reach another program's command line as arguments — a service's name for
// systemctl and supervisorctl, a file's owner and group for chown — are refused at validate
// time, at their file:line:col, when the program would read them as an option
// ("--root=/", "--reference=/etc/shadow"), as more than one thing ("all", "a:b"), or as
// anything but the one name written. The providers refuse them again before they run.
#include <doctest/doctest.h>

#include <string>

#include "providers/service/service_names.h"
#include "tests/support/after_header.h"
#include "tests/support/test_world.h"

using namespace reconcile;
using after_header::FirstError;
using after_header::Loads;

namespace {

// A service whose name is on line 6; `extra` follows on line 7.
std::string Service(const std::string& name, const std::string& extra = "") {
  return "[service.app]\nhost = \"local\"\nname = \"" + name + "\"\n" + extra + "\n";
}

// A file whose owner is on line 7 and group on line 8.
std::string File(const std::string& owner, const std::string& group = "root") {
  return "[file.f]\nhost = \"local\"\npath = \"/tmp/x\"\nowner = \"" + owner + "\"\ngroup = \"" + group + "\"\n";
}

}  // namespace

TEST_CASE("service names: never an option to systemctl or supervisorctl") {
  CHECK(FirstError(Service("--root=/")) ==
        "6:8: error: attribute 'name' of service.app: starts with '-', which systemctl and supervisorctl would read "
        "as an option, not a name");
  CHECK(FirstError(Service("-x", "manager = \"systemd\"")).find("starts with '-'") != std::string::npos);
  CHECK(FirstError(Service("-x", "manager = \"supervisor\"")).find("starts with '-'") != std::string::npos);
  CHECK(FirstError(Service("")).find("is empty") != std::string::npos);
  for (const char* bad : {"a b", "a;b", "a/b", "a$b", "a\\nb"})
    CHECK_MESSAGE(FirstError(Service(bad)).find("6:8: error: attribute 'name' of service.app: holds") == 0, bad);
}

TEST_CASE("service names: one supervisor program, never all of them") {
  CHECK(FirstError(Service("all", "manager = \"supervisor\"")) ==
        "6:8: error: attribute 'name' of service.app: is \"all\", which supervisorctl reads as every program it "
        "runs");
  CHECK(FirstError(Service("all")).find("is \"all\"") != std::string::npos);
  CHECK(FirstError(Service("web:*", "manager = \"supervisor\"")).find("holds '*'") != std::string::npos);
  CHECK(FirstError(Service("a:b:c", "manager = \"supervisor\"")).find("more than one ':'") != std::string::npos);
  CHECK(FirstError(Service("web:", "manager = \"supervisor\"")).find("empty group or program") != std::string::npos);
  CHECK(Loads(Service("web", "manager = \"supervisor\"")));
  CHECK(Loads(Service("workers:celery_1", "manager = \"supervisor\"")));
  // systemd has no "all": a unit may be called so when the spec says systemd.
  CHECK(Loads(Service("all", "manager = \"systemd\"")));
}

TEST_CASE("service names: what systemd takes as a unit name") {
  for (const char* good : {"nginx", "nginx.service", "getty@tty1.service", "postgresql@15-main", "sys-x\\\\x2dy.mount"})
    CHECK_MESSAGE(Loads(Service(good, "manager = \"systemd\"")), good);
  // An escape is systemd's alone: without manager the error says so.
  CHECK(FirstError(Service("x\\\\x2dy")).find("(with manager = \"systemd\" it is read as a unit name)") !=
        std::string::npos);
  CHECK(FirstError(Service(std::string(256, 'a'), "manager = \"systemd\"")).find("255 characters") !=
        std::string::npos);
  CHECK(SystemdUnitNameProblem("a+b").find("holds '+'") == 0);
}

TEST_CASE("service names from a variable are checked as what they became") {
  CHECK(FirstError("[vars]\nsvc = \"--root=/\"\n" + Service("${vars.svc}")).find("8:8: error: attribute 'name'") == 0);
}

TEST_CASE("the service provider refuses a bad name before it runs anything") {
  TestWorld w;
  const TypeSchema* schema = w.registry.FindType("service");
  Provider* p = w.registry.ProviderFor("service");
  HostConfig host;
  host.name = "local";
  host.local = true;
  host.settings["service_manager"] = std::string("supervisor");
  auto done = p->Apply(
      Change{Action::kUpdate,
             Target{"service.app", schema, {{"name", std::string("all")}, {"state", std::string("stopped")}}, &host},
             State{},
             {}});
  REQUIRE_FALSE(done);
  CHECK(done.error().message ==
        "service.app: the service name \"all\" is \"all\", which supervisorctl reads as "
        "every program it runs");
}

TEST_CASE("file owner and group: never an option to chown, never both at once") {
  CHECK(FirstError(File("--reference=/etc/shadow")) ==
        "7:9: error: attribute 'owner' of file.f: starts with '-', which chown would read as an option, not a name");
  CHECK(FirstError(File("root", "-g")).find("8:9: error: attribute 'group' of file.f: starts with '-'") == 0);
  CHECK(FirstError(File("www-data:root")) ==
        "7:9: error: attribute 'owner' of file.f: holds ':', which chown reads as the split between owner and "
        "group; set owner and group apart; a user or group is a POSIX portable name (letters, digits, '.', '_', "
        "'-'; not first '-')");
  // A number would be read back as a name and never compare equal.
  CHECK(FirstError(File("65534"))
            .find("7:9: error: attribute 'owner' of file.f: is a number; write the account's "
                  "name") == 0);
  CHECK(FirstError(File("root", "0")).find("8:9: error: attribute 'group' of file.f: is a number") == 0);
  CHECK(FirstError(File("www-data2")) == "(it loaded)");
  for (const char* bad : {"a b", "a;b", "a/b", "$(id)", "a\\nb", "é"})
    CHECK_MESSAGE(FirstError(File(bad)).find("7:9: error: attribute 'owner' of file.f: holds") == 0, bad);
  CHECK(FirstError(File("")).find("is empty") != std::string::npos);
  CHECK(FirstError(File("root") + "[file.f.at.two]\nowner = \"-x\"\n")
            .find("10:9: error: attribute 'owner' of file.f "
                  "at stage two: starts with '-'") == 0);
  for (const char* good : {"root", "www-data", "_apt", "user.name", "app_1", "u1000"})
    CHECK_MESSAGE(Loads(File(good, good)), good);
}

TEST_CASE("the file provider refuses a bad owner before it writes") {
  TestWorld w;
  const TypeSchema* schema = w.registry.FindType("file");
  Provider* p = w.registry.ProviderFor("file");
  HostConfig host;
  host.name = "local";
  host.local = true;
  auto done = p->Apply(Change{
      Action::kCreate,
      Target{"file.f", schema, {{"path", std::string("/nonexistent-dir/x")}, {"owner", std::string("a:b")}}, &host},
      State{},
      {}});
  REQUIRE_FALSE(done);
  CHECK(done.error().message.rfind("file.f: the owner \"a:b\" holds ':'", 0) == 0);
}
