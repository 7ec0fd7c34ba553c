// Malformed specs: every mistake an operator can make in a spec is reported with its file,
// line and column, says what was expected, and suggests the nearest valid name. Each test
// asserts the whole rendered text, as `reconcile validate` prints it.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

// One error as Diagnostics::Render prints it: the place and message, the source line with
// its number, a caret under the column, then the note when there is one.
std::string At(int line, int column, const std::string& message, const std::string& source,
               const std::string& note = "") {
  std::string num = std::to_string(line);
  std::string out = "spec.toml:" + num + ":" + std::to_string(column) + ": error: " + message + "\n";
  out += " " + num + " | " + source + "\n";
  out += std::string(num.size() + 2, ' ') + "| " + std::string(column - 1, ' ') + "^\n";
  if (!note.empty()) out += "  " + note + "\n";
  return out;
}

// Loads `text` and returns its rendered errors; a spec that loads is a test failure.
std::string Errors(const std::string& text, const LoadOptions& options = {}) {
  TestWorld w;
  LoadResult r = w.Load(text, options);
  CHECK_MESSAGE(r.spec == nullptr, "the spec loaded, but it should not have");
  CHECK_FALSE(r.diags.empty());
  return TestWorld::Errors(r);
}

// kHeader (three lines) then `body`, whose first line is line 4 of the spec.
std::string WithHeader(const std::string& body) { return std::string(kHeader) + body; }

}  // namespace

TEST_CASE("a TOML syntax error stops the load at its place") {
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = = \"a\"\n")) ==
        At(5, 7, "TOML syntax: Error while parsing value: could not determine value type", "key = = \"a\""));
}

TEST_CASE("the header: version and name are required, and checked") {
  SUBCASE("no version") {
    CHECK(Errors("name = \"t\"\n") ==
          At(1, 1, "the spec has no 'version'; add version = 1 at the top", "name = \"t\""));
  }
  SUBCASE("a version this reconcile does not read") {
    CHECK(Errors("version = 2\nname = \"t\"\n") ==
          At(1, 11, "unsupported spec version 2; this reconcile reads version = 1", "version = 2"));
  }
  SUBCASE("a version that is not an integer") {
    CHECK(Errors("version = \"1\"\nname = \"t\"\n") ==
          At(1, 11, "'version' must be an integer, not a string", "version = \"1\""));
  }
  SUBCASE("no name") {
    CHECK(Errors("version = 1\n") ==
          At(1, 1, "the spec has no 'name'; add name = \"my-cutover\" (it names the journal)", "version = 1"));
  }
  SUBCASE("a name that cannot name a journal") {
    CHECK(
        Errors("version = 1\nname = \"my cutover\"\n") ==
        At(2, 8, "'name' may hold letters, digits, '-' and '_' only (it names the journal)", "name = \"my cutover\""));
  }
  SUBCASE("a name that is not a string") {
    CHECK(Errors("version = 1\nname = 7\n") == At(2, 8, "'name' must be a string, not an integer", "name = 7"));
  }
}

TEST_CASE("stages: a non-empty list of distinct, plain names") {
  SUBCASE("listed twice") {
    CHECK(Errors("version = 1\nname = \"t\"\nstages = [\"one\", \"two\", \"one\"]\n") ==
          At(3, 25, "stage 'one' is listed twice", "stages = [\"one\", \"two\", \"one\"]"));
  }
  SUBCASE("a name with a space") {
    CHECK(Errors("version = 1\nname = \"t\"\nstages = [\"one\", \"t w o\"]\n") ==
          At(3, 18, "stage name 't w o' may hold letters, digits, '-' and '_' only", "stages = [\"one\", \"t w o\"]"));
  }
  SUBCASE("a name that is not a string") {
    CHECK(Errors("version = 1\nname = \"t\"\nstages = [\"one\", 2]\n") ==
          At(3, 18, "a stage name must be a string, not an integer", "stages = [\"one\", 2]"));
  }
  SUBCASE("empty") {
    CHECK(Errors("version = 1\nname = \"t\"\nstages = []\n") ==
          At(3, 10, "'stages' must be a non-empty list of stage names, e.g. [\"prepare\", \"switch\"]", "stages = []"));
  }
}

TEST_CASE("an unknown top-level table suggests the resource type or key meant") {
  SUBCASE("a misspelt type") {
    CHECK(Errors(WithHeader("[fil.x]\npath = \"/tmp/x\"\n")) ==
          At(4, 2, "unknown resource type 'fil', did you mean 'file'?", "[fil.x]"));
  }
  SUBCASE("a misspelt top-level key") {
    CHECK(Errors("version = 1\nname = \"t\"\nstags = [\"one\"]\n") ==
          At(3, 1, "unknown resource type 'stags', did you mean 'stages'?", "stags = [\"one\"]"));
  }
  SUBCASE("nothing near") {
    CHECK(Errors(WithHeader("[zebra.x]\n")) == At(4, 2, "unknown resource type 'zebra'", "[zebra.x]"));
  }
}

TEST_CASE("resource tables must be tables") {
  SUBCASE("the type") {
    CHECK(Errors(WithHeader("mem_item = 5\n")) ==
          At(4, 12, "'mem_item' must be tables [mem_item.NAME]", "mem_item = 5"));
  }
  SUBCASE("one resource") {
    CHECK(Errors(WithHeader("[mem_item]\na = 5\n")) == At(5, 5, "'mem_item.a' must be a table [mem_item.a]", "a = 5"));
  }
}

TEST_CASE("an unknown attribute suggests the one meant") {
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nvaleu = \"x\"\n")) ==
        At(6, 1, "unknown attribute 'valeu' in mem_item.a, did you mean 'value'?", "valeu = \"x\""));
}

TEST_CASE("an engine key is suggested too: 'stgae' is 'stage'") {
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nstgae = \"one\"\n")) ==
        At(6, 1, "unknown attribute 'stgae' in mem_item.a, did you mean 'stage'?", "stgae = \"one\""));
}

TEST_CASE("values of the wrong type say what was expected and what was written") {
  SUBCASE("a string where an integer goes") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nsize = \"ten\"\n")) ==
          At(6, 8, "attribute 'size' of mem_item.a must be an integer, not a string", "size = \"ten\""));
  }
  SUBCASE("an integer where a string goes") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nvalue = 5\n")) ==
          At(6, 9, "attribute 'value' of mem_item.a must be a string, not an integer", "value = 5"));
  }
  SUBCASE("a list item that is not a string") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\ntags = [\"x\", 1, \"y\"]\n")) ==
          At(6, 14, "each item of attribute 'tags' of mem_item.a must be a string, not an integer",
             "tags = [\"x\", 1, \"y\"]"));
  }
  SUBCASE("a string where a list goes") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\ntags = \"x\"\n")) ==
          At(6, 8, "attribute 'tags' of mem_item.a must be a list of strings, not a string", "tags = \"x\""));
  }
  SUBCASE("an integer where a boolean goes") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nenabled = 1\n")) ==
          At(6, 11, "attribute 'enabled' of mem_item.a must be true or false, not an integer", "enabled = 1"));
  }
  SUBCASE("a string where a boolean goes") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nenabled = \"yes\"\n")) ==
          At(6, 11, "attribute 'enabled' of mem_item.a must be a boolean, not a string", "enabled = \"yes\""));
  }
  SUBCASE("a required attribute of the wrong type is reported once, not also as missing") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = 5\n")) ==
          At(5, 7, "attribute 'key' of mem_item.a must be a string, not an integer", "key = 5"));
  }
}

TEST_CASE("a required attribute that is missing is named with its type and meaning") {
  CHECK(Errors(WithHeader("[mem_item.a]\nvalue = \"x\"\n")) ==
        At(4, 11, "mem_item.a is missing required attribute 'key' (a string: identifies the item)", "[mem_item.a]"));
}

TEST_CASE("enumerations list their values and suggest the nearest") {
  SUBCASE("ensure") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nensure = \"gone\"\n")) ==
          At(6, 10, "'ensure' of mem_item.a must be one of present, absent, not \"gone\"", "ensure = \"gone\""));
  }
  SUBCASE("ensure, misspelt") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nensure = \"absnet\"\n")) ==
          At(6, 10, "'ensure' of mem_item.a must be one of present, absent, not \"absnet\", did you mean 'absent'?",
             "ensure = \"absnet\""));
  }
  SUBCASE("a provider's one_of") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\ncolor = \"gren\"\n")) ==
          At(6, 9,
             "attribute 'color' of mem_item.a must be one of red, green, blue, not \"gren\", did you mean "
             "'green'?",
             "color = \"gren\""));
  }
}

TEST_CASE("a duration must be written as one") {
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nwait = \"10 minutes\"\n")) ==
        At(6, 8,
           "attribute 'wait' of mem_item.a must be a duration such as \"30s\", \"10m\" or \"1h30m\", not "
           "\"10 minutes\"",
           "wait = \"10 minutes\""));
}

TEST_CASE("a string that must match a pattern says what it must look like") {
  SUBCASE("file mode") {
    CHECK(Errors(WithHeader("[file.f]\nhost = \"local\"\npath = \"/tmp/f\"\nmode = \"644\"\n")) ==
          At(7, 8, "attribute 'mode' of file.f must be four octal digits such as \"0644\", not \"644\"",
             "mode = \"644\""));
  }
  SUBCASE("a relative file path, reported once") {
    CHECK(Errors(WithHeader("[file.f]\nhost = \"local\"\npath = \"etc/motd\"\n")) ==
          At(6, 8, "attribute 'path' of file.f must be an absolute path (starting with /), not \"etc/motd\"",
             "path = \"etc/motd\""));
  }
}

TEST_CASE("stage names in resources, overlays and [stage.X] must be listed in 'stages'") {
  SUBCASE("stage = ") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nstage = \"tow\"\n")) ==
          At(6, 9, "unknown stage 'tow' for mem_item.a, did you mean 'two'?", "stage = \"tow\"",
             "the stages are: one, two, three"));
  }
  SUBCASE("an overlay") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\n[mem_item.a.at.tree]\nvalue = \"x\"\n")) ==
          At(6, 16, "[mem_item.a.at.tree] names no stage, did you mean 'three'?", "[mem_item.a.at.tree]",
             "the stages are: one, two, three"));
  }
  SUBCASE("[stage.X]") {
    CHECK(Errors(WithHeader("[stage.thre]\nconfirm = \"sure?\"\n")) ==
          At(4, 8, "[stage.thre] names no stage in 'stages', did you mean 'three'?", "[stage.thre]"));
  }
}

TEST_CASE("[stage.X] takes confirm, a string") {
  SUBCASE("misspelt") {
    CHECK(Errors(WithHeader("[stage.two]\nconfrim = \"sure?\"\n")) ==
          At(5, 1, "unknown key 'confrim' in [stage.two], did you mean 'confirm'?", "confrim = \"sure?\""));
  }
  SUBCASE("not a string") {
    CHECK(Errors(WithHeader("[stage.two]\nconfirm = true\n")) ==
          At(5, 11, "'confirm' of stage two must be a string, not a boolean", "confirm = true"));
  }
}

TEST_CASE("an overlay for a stage before the resource enters") {
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nstage = \"two\"\n[mem_item.a.at.one]\nvalue = \"x\"\n")) ==
        At(7, 16, "[mem_item.a.at.one] comes before mem_item.a enters at stage 'two'", "[mem_item.a.at.one]",
           "an overlay changes a resource from a later stage on; move `stage` earlier or drop the overlay"));
}

TEST_CASE("an identity attribute cannot change in an overlay") {
  SUBCASE("key") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\n[mem_item.a.at.two]\nkey = \"b\"\n")) ==
          At(7, 1, "'key' identifies mem_item.a and cannot change between stages", "key = \"b\"",
             "declare a second resource for the new one and retire the old with ensure = \"absent\""));
  }
  SUBCASE("path") {
    CHECK(Errors(WithHeader("[file.f]\nhost = \"local\"\npath = \"/tmp/f\"\n[file.f.at.three]\npath = \"/tmp/g\"\n")) ==
          At(8, 1, "'path' identifies file.f and cannot change between stages", "path = \"/tmp/g\"",
             "declare a second resource for the new one and retire the old with ensure = \"absent\""));
  }
}

TEST_CASE("stage, after and host belong to the resource, not to an overlay") {
  CHECK(Errors(WithHeader("[file.f]\nhost = \"local\"\npath = \"/tmp/f\"\n"
                          "[file.f.at.two]\nstage = \"three\"\nafter = []\nhost = \"local\"\n")) ==
        At(8, 1, "'stage' cannot change in a later stage; set it on [file.f] itself", "stage = \"three\"") +
            At(9, 1, "'after' cannot change in a later stage; set it on [file.f] itself", "after = []") +
            At(10, 1, "'host' cannot change in a later stage; set it on [file.f] itself", "host = \"local\""));
}

TEST_CASE("an unknown attribute in an overlay suggests the one meant") {
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\n[mem_item.a.at.two]\nszie = 3\n")) ==
        At(7, 1, "unknown attribute 'szie' in [mem_item.a.at.two], did you mean 'size'?", "szie = 3"));
}

TEST_CASE("after must name other resources of the spec") {
  SUBCASE("a misspelt address") {
    CHECK(
        Errors(WithHeader("[mem_item.base]\nkey = \"b\"\n[mem_item.a]\nkey = \"a\"\nafter = [\"mem_item.bsae\"]\n")) ==
        At(8, 10,
           "'after' of mem_item.a names 'mem_item.bsae', which the spec does not declare, did you mean "
           "'mem_item.base'?",
           "after = [\"mem_item.bsae\"]"));
  }
  SUBCASE("itself") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nafter = [\"mem_item.a\"]\n")) ==
          At(6, 10, "mem_item.a cannot come after itself", "after = [\"mem_item.a\"]"));
  }
  SUBCASE("not a list") {
    CHECK(Errors(WithHeader("[mem_item.b]\nkey = \"b\"\n[mem_item.a]\nkey = \"a\"\nafter = \"mem_item.b\"\n")) ==
          At(8, 9, "'after' of mem_item.a must be a list of addresses such as [\"s3_bucket.media\"]",
             "after = \"mem_item.b\""));
  }
  SUBCASE("an item that is not a string") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nafter = [3]\n")) ==
          At(6, 10, "each item of 'after' of mem_item.a must be an address string, not an integer", "after = [3]"));
  }
}

TEST_CASE("variables: unknown names are suggested, and ${ must be closed") {
  SUBCASE("a misspelt variable, pointing at the ${") {
    CHECK(Errors(WithHeader(
              "[vars]\nprod_ip = \"10.0.0.1\"\n[mem_item.a]\nkey = \"a\"\nvalue = \"ip=${vars.prod_pi}\"\n")) ==
          At(8, 13, "unknown variable 'prod_pi' in attribute 'value' of mem_item.a, did you mean 'prod_ip'?",
             "value = \"ip=${vars.prod_pi}\""));
  }
  SUBCASE("no [vars] at all") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"${vars.k}\"\n")) ==
          At(5, 8, "unknown variable 'k' in attribute 'key' of mem_item.a", "key = \"${vars.k}\"",
             "declare it under [vars] or pass --var k=VALUE"));
  }
  SUBCASE("in a list item") {
    CHECK(Errors(WithHeader("[vars]\nzone = \"z\"\n[mem_item.a]\nkey = \"a\"\ntags = [\"x\", \"${vars.zon}\"]\n")) ==
          At(8, 15, "unknown variable 'zon' in attribute 'tags' of mem_item.a, did you mean 'zone'?",
             "tags = [\"x\", \"${vars.zon}\"]"));
  }
  SUBCASE("unterminated") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nvalue = \"x-${vars.k\"\n")) ==
          At(6, 12,
             "attribute 'value' of mem_item.a: unterminated '${' (close it with '}', or write '$${' for a "
             "literal '${')",
             "value = \"x-${vars.k\""));
  }
  SUBCASE("a variable that refers to a resource") {
    CHECK(Errors(WithHeader("[vars]\na = \"x-${mem_item.b.key}\"\n")) ==
          At(5, 8, "'${mem_item.b.key}' in variable 'a': a variable may refer to variables only",
             "a = \"x-${mem_item.b.key}\"", "write ${vars.NAME}, or the value itself"));
  }
  SUBCASE("variables that refer to each other") {
    CHECK(Errors(WithHeader("[vars]\na = \"${vars.b}/x\"\nb = \"${vars.a}/y\"\n")) ==
          At(6, 6, "variable 'b' refers to 'a', which refers back to 'b'", "b = \"${vars.a}/y\"",
             "give one of them a plain value"));
  }
  SUBCASE("a variable that refers to an unknown one") {
    CHECK(Errors(WithHeader("[vars]\nroot = \"/srv\"\ndir = \"${vars.rot}/x\"\n")) ==
          At(6, 8, "unknown variable 'rot' in variable 'dir', did you mean 'root'?", "dir = \"${vars.rot}/x\""));
  }
  SUBCASE("a variable that is a list") {
    CHECK(Errors(WithHeader("[vars]\nips = [\"a\"]\n")) ==
          At(5, 7, "variable 'ips' must be a string, integer or boolean, not an array", "ips = [\"a\"]"));
  }
  SUBCASE("a variable that is not a number, into an integer") {
    CHECK(Errors(WithHeader("[vars]\nn = \"ten\"\n[mem_item.a]\nkey = \"a\"\nsize = \"${vars.n}\"\n")) ==
          At(8, 8, "attribute 'size' of mem_item.a must be an integer, not \"ten\"", "size = \"${vars.n}\""));
  }
  SUBCASE("a number too large for an integer, written as a string") {
    CHECK(
        Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nsize = \"99999999999999999999\"\n")) ==
        At(6, 8, "attribute 'size' of mem_item.a must be an integer, not a string", "size = \"99999999999999999999\""));
  }
  SUBCASE("a number too large for an integer, from a variable") {
    CHECK(
        Errors(WithHeader("[vars]\nn = \"99999999999999999999\"\n[mem_item.a]\nkey = \"a\"\nsize = \"${vars.n}\"\n")) ==
        At(8, 8, "attribute 'size' of mem_item.a must be an integer, not \"99999999999999999999\"",
           "size = \"${vars.n}\""));
  }
}

TEST_CASE("an integer or boolean may come from a variable, not from another resource") {
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nsize = 3\n[mem_item.b]\nkey = \"b\"\nsize = "
                          "\"${mem_item.a.size}\"\n")) ==
        At(9, 8, "attribute 'size' of mem_item.b must be an integer, not a reference to another resource",
           "size = \"${mem_item.a.size}\"", "write the value, or take it from a variable: ${vars.NAME}"));
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nenabled = \"${mem_item.b.enabled}\"\n")) ==
        At(6, 11, "attribute 'enabled' of mem_item.a must be a boolean, not a reference to another resource",
           "enabled = \"${mem_item.b.enabled}\"", "write the value, or take it from a variable: ${vars.NAME}"));
}

TEST_CASE("a variable in the spec's name is substituted like any other") {
  TestWorld w;
  LoadResult r = w.Load("version = 1\nname = \"cut-${vars.env}\"\n[vars]\nenv = \"lab\"\n");
  REQUIRE_MESSAGE(r.spec, TestWorld::Errors(r));
  CHECK(r.spec->name == "cut-lab");
}

TEST_CASE("references must name a declared resource and one of its attributes") {
  SUBCASE("no such resource") {
    CHECK(Errors(WithHeader("[mem_item.source]\nkey = \"s\"\n[mem_item.a]\nkey = \"a\"\nvalue = "
                            "\"${mem_item.sorce.value}\"\n")) ==
          At(8, 10,
             "'${mem_item.sorce.value}' in mem_item.a refers to 'mem_item.sorce', which the spec does not "
             "declare, did you mean 'mem_item.source'?",
             "value = \"${mem_item.sorce.value}\""));
  }
  SUBCASE("no such attribute") {
    CHECK(
        Errors(WithHeader("[mem_item.b]\nkey = \"b\"\n[mem_item.a]\nkey = \"a\"\nvalue = \"${mem_item.b.valeu}\"\n")) ==
        At(8, 10, "'${mem_item.b.valeu}': mem_item has no attribute 'valeu', did you mean 'value'?",
           "value = \"${mem_item.b.valeu}\""));
  }
  SUBCASE("itself") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nvalue = \"${mem_item.a.key}\"\n")) ==
          At(6, 10, "'${mem_item.a.key}': mem_item.a cannot refer to itself", "value = \"${mem_item.a.key}\""));
  }
  SUBCASE("something that is neither a variable nor a resource attribute") {
    CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nvalue = \"${env.HOME}\"\n")) ==
          At(6, 10, "'${env.HOME}' in attribute 'value' of mem_item.a is not a reference this can resolve",
             "value = \"${env.HOME}\"", "write ${vars.NAME}, ${TYPE.NAME.attribute} or ${run}"));
  }
}

TEST_CASE("provider configuration may use variables but not resource references") {
  CHECK(Errors(WithHeader("[provider.mem.a]\nregion = \"${mem_item.b.value}\"\n[mem_item.b]\nkey = \"b\"\n")) ==
        At(5, 11, "'${mem_item.b.value}' in 'region' of [provider.mem.a] is not a reference this can resolve",
           "region = \"${mem_item.b.value}\"",
           "write ${vars.NAME}; resource references are allowed in resources only"));
}

TEST_CASE("hosts") {
  SUBCASE("a file without a host") {
    CHECK(Errors(WithHeader("[host.web]\naddress = \"10.0.0.1\"\n[file.f]\npath = \"/tmp/f\"\n")) ==
          At(6, 7, "file.f has no 'host'; add host = \"local\", \"web\"", "[file.f]"));
  }
  SUBCASE("an unknown host") {
    CHECK(Errors(WithHeader("[host.web]\naddress = \"10.0.0.1\"\n[file.f]\nhost = \"wbe\"\npath = \"/tmp/f\"\n")) ==
          At(7, 8, "unknown host 'wbe' for file.f, did you mean 'web'?", "host = \"wbe\"",
             "declare it as [host.wbe], or use host = \"local\" for this machine"));
  }
  SUBCASE("a jump to a host that is not declared") {
    CHECK(Errors(WithHeader("[host.bastion]\naddress = \"10.0.0.1\"\n[host.web]\naddress = \"10.0.0.2\"\n"
                            "jump = \"bastoin\"\n")) ==
          At(8, 8, "'jump' of [host.web] names 'bastoin', which is not a [host.NAME], did you mean 'bastion'?",
             "jump = \"bastoin\""));
  }
  SUBCASE("jumps that go round in a loop") {
    CHECK(Errors(WithHeader("[host.a]\naddress = \"10.0.0.1\"\njump = \"b\"\n[host.b]\naddress = \"10.0.0.2\"\n"
                            "jump = \"a\"\n"))
              .find("go round in a loop: a → b → a") != std::string::npos);
    CHECK(Errors(WithHeader("[host.a]\naddress = \"10.0.0.1\"\njump = \"local\"\n"))
              .find("'jump' of [host.a] names this machine") != std::string::npos);
  }
  SUBCASE("a passphrase written in the spec") {
    std::string e = Errors(WithHeader("[host.web]\naddress = \"10.0.0.1\"\nidentity_passphrase = \"hunter2\"\n"));
    CHECK(e.find("'identity_passphrase' of [host.web] must be env:NAME or file:PATH") != std::string::npos);
    CHECK(e.find("hunter2") == std::string::npos);
  }
  SUBCASE("[host.local]") {
    CHECK(Errors(WithHeader("[host.local]\naddress = \"127.0.0.1\"\n")) ==
          At(4, 7, "'local' is this machine and needs no [host.local] table; pick another name", "[host.local]"));
  }
  SUBCASE("no address") {
    CHECK(Errors(WithHeader("[host.web]\nuser = \"deploy\"\n")) ==
          At(4, 7, "[host.web] has no 'address'; add address = \"HOST_OR_IP\"", "[host.web]"));
  }
  SUBCASE("a port out of range") {
    CHECK(Errors(WithHeader("[host.web]\naddress = \"10.0.0.1\"\nport = 70000\n")) ==
          At(6, 8, "'port' of [host.web] must be a port number from 1 to 65535", "port = 70000"));
  }
  SUBCASE("sudo not a boolean") {
    CHECK(Errors(WithHeader("[host.web]\naddress = \"10.0.0.1\"\nsudo = \"yes\"\n")) ==
          At(6, 8, "'sudo' of [host.web] must be true or false, not a string", "sudo = \"yes\""));
  }
  SUBCASE("a service manager reconcile does not drive") {
    CHECK(Errors(WithHeader("[host.web]\naddress = \"10.0.0.1\"\nservice_manager = \"s6\"\n")) ==
          At(6, 19, "'service_manager' of [host.web] must be one of systemd, supervisor, runit, not \"s6\"",
             "service_manager = \"s6\""));
  }
  SUBCASE("a misspelt key") {
    CHECK(Errors(WithHeader("[host.web]\naddress = \"10.0.0.1\"\nidentiy = \"~/.ssh/id\"\n")) ==
          At(6, 1, "unknown key 'identiy' in [host.web], did you mean 'identity'?", "identiy = \"~/.ssh/id\""));
  }
}

TEST_CASE("provider instances") {
  SUBCASE("an unknown kind") {
    CHECK(Errors(WithHeader("[provider.memm.a]\nregion = \"eu\"\n")) ==
          At(4, 11, "unknown provider kind 'memm', did you mean 'mem'?", "[provider.memm.a]"));
  }
  SUBCASE("a required key of the wrong type is reported once") {
    CHECK(Errors(WithHeader("[provider.mem.a]\nregion = 5\n")) ==
          At(5, 10, "'region' of [provider.mem.a] must be a string, not an integer", "region = 5"));
  }
  SUBCASE("a required key missing") {
    CHECK(Errors(WithHeader("[provider.mem.a]\ntoken = \"env:TOKEN\"\n")) ==
          At(4, 15, "[provider.mem.a] is missing 'region' (a string: where the items live)", "[provider.mem.a]"));
  }
  SUBCASE("an unknown key") {
    CHECK(Errors(WithHeader("[provider.mem.a]\nregion = \"eu\"\nregoin = \"us\"\n")) ==
          At(6, 1, "unknown key 'regoin' in [provider.mem.a], did you mean 'region'?", "regoin = \"us\""));
  }
  SUBCASE("a resource that needs one, and the spec has none") {
    CHECK(Errors(WithHeader("[mem_remote.r]\nkey = \"r\"\n")) ==
          At(4, 13, "mem_remote.r needs a provider, and the spec declares no [provider.mem.NAME]", "[mem_remote.r]"));
  }
  SUBCASE("several to choose from") {
    CHECK(Errors(WithHeader("[provider.mem.a]\nregion = \"eu\"\n[provider.mem.b]\nregion = \"us\"\n"
                            "[mem_remote.r]\nkey = \"r\"\n")) ==
          At(8, 13, "mem_remote.r has no 'provider' and the spec declares several: mem.a, mem.b", "[mem_remote.r]",
             "add provider = \"mem.a\" (or another of them)"));
  }
  SUBCASE("a name that is not declared") {
    CHECK(Errors(WithHeader("[provider.mem.main]\nregion = \"eu\"\n[mem_remote.r]\nkey = \"r\"\nprovider = "
                            "\"mem.mian\"\n")) ==
          At(8, 12, "unknown provider 'mem.mian' for mem_remote.r, did you mean 'mem.main'?", "provider = \"mem.mian\"",
             "a mem_remote needs a [provider.mem.NAME] table"));
  }
  SUBCASE("the instance's name without its kind") {
    CHECK(Errors(WithHeader("[provider.mem.old]\nregion = \"eu\"\n[provider.mem.new]\nregion = \"us\"\n"
                            "[mem_remote.r]\nkey = \"r\"\nprovider = \"new\"\n")) ==
          At(10, 12, "unknown provider 'new' for mem_remote.r, did you mean 'mem.new'?", "provider = \"new\"",
             "a mem_remote needs a [provider.mem.NAME] table"));
  }
  SUBCASE("a key naming another instance that is not declared") {
    // The named instance may come later in the file: checked once all are read.
    CHECK(Errors(WithHeader("[provider.mem.edge]\nregion = \"eu\"\nrelay = \"hbu\"\n"
                            "[provider.mem.hub]\nregion = \"us\"\n")) ==
          At(6, 9, "unknown provider 'hbu' in 'relay' of [provider.mem.edge], did you mean 'hub'?", "relay = \"hbu\"",
             "write relay = \"NAME\" with a [provider.mem.NAME] of this spec"));
  }
  SUBCASE("a type that takes no provider") {
    CHECK(Errors(WithHeader(
              "[provider.mem.main]\nregion = \"eu\"\n[mem_item.a]\nkey = \"a\"\nprovider = \"mem.main\"\n")) ==
          At(8, 1, "unknown attribute 'provider' in mem_item.a", "provider = \"mem.main\""));
  }
}

TEST_CASE("a check's command written as one string needs shell = true, and takes it") {
  CHECK(Errors(WithHeader("[check.ready]\nkind = \"command\"\ncommand = \"test -f /tmp/x\"\n")) ==
        At(6, 11, "'command' of check.ready is one string, which would need a shell", "command = \"test -f /tmp/x\"",
           "write it as a list of arguments, e.g. [\"systemctl\", \"reload\", \"nginx\"], or set shell = true"));
  TestWorld w;
  LoadResult r = w.Load(WithHeader("[check.ready]\nkind = \"command\"\ncommand = \"test -f /tmp/x\"\nshell = true\n"));
  CHECK(TestWorld::Errors(r) == "");
  CHECK(r.spec != nullptr);
}

TEST_CASE("checks: a kind, and the attributes of that kind") {
  SUBCASE("no kind") {
    CHECK(Errors(WithHeader("[check.up]\nurl = \"http://x/\"\n")) ==
          At(4, 8, "check.up has no 'kind'; add kind = one of http, tcp, dns, tls, command, wait", "[check.up]"));
  }
  SUBCASE("a misspelt kind is reported once") {
    CHECK(Errors(WithHeader("[check.up]\nkind = \"htp\"\nurl = \"http://x/\"\n")) ==
          At(5, 8,
             "attribute 'kind' of check.up must be one of http, tcp, dns, tls, command, wait, not "
             "\"htp\", did you mean 'http'?",
             "kind = \"htp\""));
  }
  SUBCASE("an attribute of another kind") {
    CHECK(
        Errors(WithHeader("[check.port]\nkind = \"tcp\"\naddress = \"10.0.0.1\"\nport = 22\nurl = \"http://x/\"\n")) ==
        At(8, 7, "'url' does not apply to a check of kind 'tcp'", "url = \"http://x/\"", "it is for kind http"));
  }
  SUBCASE("an attribute of another kind in an overlay") {
    CHECK(Errors(WithHeader("[check.port]\nkind = \"tcp\"\naddress = \"10.0.0.1\"\nport = 22\n"
                            "[check.port.at.two]\nbody_contains = \"ok\"\n")) ==
          At(9, 17, "'body_contains' does not apply to a check of kind 'tcp'", "body_contains = \"ok\"",
             "it is for kind http"));
  }
  SUBCASE("a required attribute of the kind") {
    CHECK(Errors(WithHeader("[check.port]\nkind = \"tcp\"\naddress = \"10.0.0.1\"\n")) ==
          At(4, 8, "check.port (kind 'tcp') is missing required attribute 'port' (an integer: TCP port)",
             "[check.port]"));
  }
  SUBCASE("a required attribute of the kind, of the wrong type, is reported once") {
    CHECK(Errors(WithHeader("[check.port]\nkind = \"tcp\"\naddress = \"10.0.0.1\"\nport = \"ssh\"\n")) ==
          At(7, 8, "attribute 'port' of check.port must be an integer, not a string", "port = \"ssh\""));
  }
  SUBCASE("a url of another protocol than http") {
    CHECK(Errors(WithHeader("[check.up]\nkind = \"http\"\nurl = \"ftp://x/f\"\n")) ==
          At(6, 7, "attribute 'url' of check.up: asks for ftp://; an http check requests http:// or https:// only",
             "url = \"ftp://x/f\""));
    for (const char* fine : {"https://x/", "HTTP://x/", "x.example/health"}) {
      CAPTURE(fine);
      TestWorld w;
      LoadResult r = w.Load(WithHeader(std::string("[check.up]\nkind = \"http\"\nurl = \"") + fine + "\"\n"));
      CHECK(TestWorld::Errors(r) == "");
      CHECK(r.spec != nullptr);
    }
  }
  SUBCASE("a timeout that is not a duration") {
    CHECK(Errors(WithHeader("[check.up]\nkind = \"http\"\nurl = \"http://x/\"\ntimeout = \"5\"\n")) ==
          At(7, 11,
             "attribute 'timeout' of check.up must be a duration such as \"30s\", \"10m\" or \"1h30m\", not "
             "\"5\"",
             "timeout = \"5\""));
  }
}

TEST_CASE("a file takes content or source, not both") {
  CHECK(Errors(WithHeader("[file.f]\nhost = \"local\"\npath = \"/tmp/f\"\ncontent = \"x\"\nsource = \"f.txt\"\n")) ==
        At(8, 10, "file.f sets both 'source' and 'content'; keep one (source is a file whose text becomes content)",
           "source = \"f.txt\""));
}

TEST_CASE("[state]") {
  SUBCASE("an unknown key") {
    CHECK(Errors(WithHeader("[state]\npaht = \"j\"\n")) ==
          At(5, 1, "unknown key 'paht' in [state], did you mean 'path'?", "paht = \"j\""));
  }
  SUBCASE("a key written in clear: its place is shown, never its line") {
    CHECK(Errors(WithHeader("[state]\nkey = \"hunter2\"\n")) ==
          "spec.toml:5:7: error: 'key' of [state] must be a secret reference, env:NAME or file:PATH, never the "
          "secret itself\n");
  }
  SUBCASE("a password in the journal's url, likewise") {
    CHECK(Errors(WithHeader("[state]\nurl = \"postgres://u:hunter2@db/x\"\n")) ==
          "spec.toml:5:7: error: 'url' of [state] holds a password, which would be shown and kept in the spec\n"
          "  write the password as password = \"env:NAME\" under [state], or the whole URL as url = \"env:NAME\"\n");
  }
  SUBCASE("a journal in two places") {
    std::string out = Errors(WithHeader("[state]\npath = \"j\"\nurl = \"postgres://u@db/x\"\n"));
    CHECK(out.find("spec.toml:5:8: error: [state] has both 'path' and 'url'; a journal lives in one place") !=
          std::string::npos);
  }
  SUBCASE("a url that is not PostgreSQL's") {
    std::string out = Errors(WithHeader("[state]\nurl = \"mysql://u@db/x\"\n"));
    CHECK(out.find("'url' of [state] must be a postgres:// URL, not \"mysql://u@db/x\"") != std::string::npos);
  }
}

TEST_CASE("--env names an overlay file that must exist") {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "reconcile-spec-errors-no-overlay";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "cutover.toml").string();
  TestWorld w;
  LoadOptions options;
  options.env = "lab";
  LoadResult r = w.Load(kHeader, options, path);
  CHECK(r.spec == nullptr);
  CHECK(TestWorld::Errors(r) == "error: --env lab needs the overlay file '" + (dir / "cutover.lab.toml").string() +
                                    "', which cannot be read: No such file or directory\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("every mistake of a spec is reported in one run, in the order of the file") {
  TestWorld w;
  LoadResult r =
      w.Load(WithHeader("[mem_item.z]\nkey = \"z\"\ncolor = \"purple\"\n"  // lines 4-6
                        "[mem_item.a]\nkey = \"a\"\nstage = \"fourth\"\n"  // lines 7-9
                        "[fil.x]\n"));                                     // line 10
  CHECK(r.spec == nullptr);
  CHECK(r.diags.size() == 3);
  CHECK(TestWorld::Errors(r) ==
        At(6, 9, "attribute 'color' of mem_item.z must be one of red, green, blue, not \"purple\"",
           "color = \"purple\"") +
            At(9, 9, "unknown stage 'fourth' for mem_item.a", "stage = \"fourth\"", "the stages are: one, two, three") +
            At(10, 2, "unknown resource type 'fil', did you mean 'file'?", "[fil.x]"));
}

TEST_CASE("a setting written below a resource's table is said to belong to it") {
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nvalue = \"v\"\non_failure = \"rollback\"\n")) ==
        At(7, 1, "unknown attribute 'on_failure' in mem_item.a", "on_failure = \"rollback\"",
           "'on_failure' is a setting of the whole spec: written below [mem_item.a], it belongs to that table; move "
           "it above the first [table]"));
}

TEST_CASE("a table written twice: as written, and where the first is") {
  // toml++'s own message garbles a quoted name ('mem_item."ababc"') and names no first table.
  CHECK(Errors(WithHeader("[mem_item.\"abc\"]\nkey = \"a\"\nvalue = \"v\"\n[mem_item.b]\nkey = \"b\"\nvalue = \"v\"\n"
                          "  [ mem_item . 'abc' ]  # again\n")) ==
        At(10, 3, "TOML syntax: the table [ mem_item . 'abc' ] is written twice; the first is on line 4",
           "  [ mem_item . 'abc' ]  # again"));
}

TEST_CASE("a table written twice: a ']' in a quoted key, and arrays of tables left to TOML's account") {
  CHECK(Errors(WithHeader("[vars.\"a]b\"]\nx = 1\n[vars.\"a]b\"]\ny = 2\n"))
            .find("the table [vars.\"a]b\"] is written twice; the first is on line 4") != std::string::npos);
  std::string arrays = Errors(WithHeader("[[t]]\n[t.x]\n[[t]]\n[t.x]\n[t.x]\n"));
  CHECK(arrays.find("written twice") == std::string::npos);
  CHECK(arrays.find("cannot redefine") != std::string::npos);
}

TEST_CASE("a key written twice: the key, its table and where the first is, at the key") {
  // toml++'s own: "cannot redefine existing string 'key'", with the caret on the value.
  CHECK(Errors(WithHeader("[mem_item.\"a b\"]\nkey = \"a\"\nvalue = \"\"\"\nkey = 1\n\"\"\"\n  key = \"again\"\n")) ==
        At(9, 3, "TOML syntax: the key 'key' is written twice in [mem_item.\"a b\"]; the first is on line 5",
           "  key = \"again\""));
  CHECK(Errors(WithHeader("[mem_item.a]\nkey = \"a\"\ntags.x = 1\ntags.x = 2\n"))
            .find("the key 'tags.x' is written twice in [mem_item.a]; the first is on line 6") != std::string::npos);
  CHECK(Errors("version = 1\nname = \"x\"\nversion = 2\n")
            .find("the key 'version' is written twice; the first is on line 1") != std::string::npos);
  // A value over several lines is not read alone: toml++'s own words stay.
  std::string over = Errors(WithHeader("[mem_item.a]\nkey = \"a\"\nkey = \"\"\"\nb\"\"\"\n"));
  CHECK(over.find("cannot redefine existing string 'key'") != std::string::npos);
}

TEST_CASE("a setting as a dotted key of a resource is not said to be below its table") {
  std::string e = Errors(WithHeader("[mem_item]\na.key = \"k\"\na.value = \"v\"\na.on_failure = \"rollback\"\n"));
  CHECK(e.find("unknown attribute 'on_failure' in mem_item.a") != std::string::npos);
  CHECK(e.find("belongs to that table") == std::string::npos);
}
