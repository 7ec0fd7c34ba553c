#include "providers/aws/aws_types.h"

#include <cctype>
#include <cstdlib>
#include <regex>

#include <nlohmann/json.hpp>

namespace reconcile::aws {

namespace {

// The one inline policy reconcile writes and reads; others on the user are not its own.
constexpr const char* kPolicyName = "reconcile";

std::string NameCheck(const std::string& v, const AttrMap&) {
  static const std::regex name(R"(^[A-Za-z0-9+=,.@_-]{1,64}$)");
  return std::regex_match(v, name) ? ""
                                   : "an IAM user name is 1 to 64 letters, digits and + = , . @ _ -, "
                                     "e.g. \"tmp-migrator\"";
}

std::string PathCheck(const std::string& v, const AttrMap&) {
  static const std::regex path(R"(^/([\x21-\x7e]+/)?$)");  // IAM's own pattern
  return v.size() <= 512 && std::regex_match(v, path)
             ? ""
             : "an IAM path starts and ends with \"/\" and holds printable ASCII, no spaces, e.g. \"/cutover/\"";
}

std::string PolicyCheck(const std::string& v, const AttrMap&) {
  if (v.empty()) return "";
  try {
    if (nlohmann::json::parse(v).is_object()) return "";
    return "a policy is a JSON object: {\"Version\": \"2012-10-17\", \"Statement\": [...]}";
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 2, column 43: syntax error …": the
    // place is the policy's own line, which the loader's file:line:col does not say.
    std::string why = e.what();
    if (std::size_t at = why.find("parse error at "); at != std::string::npos) why.erase(0, at + 15);
    std::size_t colon = why.find(": ");
    if (colon == std::string::npos) return "the policy is not JSON: " + why;
    return "the policy is not JSON (" + why.substr(0, colon) + " of the policy): " + why.substr(colon + 2);
  }
}

// Two policies are the same when they are the same JSON: key order and spacing do not count.
bool SamePolicy(const std::string& a, const std::string& b) {
  auto x = nlohmann::json::parse(a, nullptr, false);
  auto y = nlohmann::json::parse(b, nullptr, false);
  if (x.is_discarded() || y.is_discarded()) return a == b;
  return x == y;
}

// One call's answer parsed, or its error.
Result<pugi::xml_document> Ask(QueryClient& iam, const std::string& action, const Params& params) {
  auto xml = iam.Call(action, params);
  if (!xml) return xml.error();
  pugi::xml_document doc;
  if (Status s = ParseAnswer(*xml, "iam " + action, &doc); !s) return s.error();
  return doc;
}

// Every value a List… action gives for the user, page after page: the text of the nodes
// `xpath` selects.
Result<StringList> List(QueryClient& iam, const std::string& action, const std::string& user,
                        const std::string& xpath) {
  StringList out;
  std::string marker;
  for (;;) {
    Params p = {{"UserName", user}};
    if (!marker.empty()) p.push_back({"Marker", marker});
    auto doc = Ask(iam, action, p);
    if (!doc) return doc.error();
    for (pugi::xpath_node n : doc->select_nodes(xpath.c_str())) out.push_back(n.node().text().as_string());
    std::string truncated = doc->select_node("//*[local-name()='IsTruncated']").node().text().as_string();
    marker = doc->select_node("//*[local-name()='Marker']").node().text().as_string();
    if (truncated != "true" || marker.empty()) return out;
  }
}

std::string Members(const char* list, const char* field = nullptr) {
  std::string x = std::string("//*[local-name()='") + list + "']/*[local-name()='member']";
  return field ? x + "/*[local-name()='" + field + "']" : x;
}

// What deleting the user takes with it that a rollback, which re-creates it from the spec,
// cannot give back: kept as the state's private data for the Review.
struct Belongings {
  StringList access_keys, inline_policies, managed_policies, groups;
  bool login_profile = false;
};

Result<Belongings> ReadBelongings(QueryClient& iam, const std::string& user) {
  Belongings b;
  struct {
    const char* action;
    std::string xpath;
    StringList* into;
  } lists[] = {
      {"ListAccessKeys", Members("AccessKeyMetadata", "AccessKeyId"), &b.access_keys},
      {"ListUserPolicies", Members("PolicyNames"), &b.inline_policies},
      {"ListAttachedUserPolicies", Members("AttachedPolicies", "PolicyArn"), &b.managed_policies},
      {"ListGroupsForUser", Members("Groups", "GroupName"), &b.groups},
  };
  for (auto& l : lists) {
    auto got = List(iam, l.action, user, l.xpath);
    if (!got) return got.error();
    *l.into = std::move(*got);
  }
  auto login = iam.Call("GetLoginProfile", {{"UserName", user}});
  if (!login && login.error().code != ErrorCode::kNotFound) return login.error();
  b.login_profile = login.ok();
  return b;
}

std::string Pack(const Belongings& b) {
  StringList others;
  for (const std::string& p : b.inline_policies)
    if (p != kPolicyName) others.push_back(p);
  // Key ids only, never a secret (IAM never shows one again anyway): the journal keeps this.
  return nlohmann::json{{"access_keys", b.access_keys.size()},
                        {"inline_policies", others},
                        {"managed_policies", b.managed_policies},
                        {"groups", b.groups},
                        {"login_profile", b.login_profile}}
      .dump();
}

// The user's path, or none when IAM has no user of that name.
Result<std::optional<std::string>> GetPath(QueryClient& iam, const std::string& user) {
  auto doc = Ask(iam, "GetUser", {{"UserName", user}});
  if (!doc) {
    if (doc.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
    return doc.error();
  }
  return std::optional<std::string>(
      doc->select_node("//*[local-name()='User']/*[local-name()='Path']").node().text().as_string());
}

// reconcile's inline policy as IAM holds it, "" when there is none.
Result<std::string> GetPolicy(QueryClient& iam, const std::string& user) {
  auto doc = Ask(iam, "GetUserPolicy", {{"UserName", user}, {"PolicyName", kPolicyName}});
  if (!doc) {
    if (doc.error().code == ErrorCode::kNotFound) return std::string();
    return doc.error();
  }
  // IAM answers a policy document URL-encoded (RFC 3986: '+' is itself, not a space).
  return http::UriDecode(doc->select_node("//*[local-name()='PolicyDocument']").node().text().as_string());
}

Result<State> Read(QueryClient& iam, const Target& t) {
  std::string user = StringAttr(t.desired, "name");
  State s{false, {{"name", user}}};
  auto path = GetPath(iam, user);
  if (!path) return path.error();
  if (!*path) return s;
  s.exists = true;
  s.attrs["path"] = **path;
  // A policy the spec leaves out is not reconcile's: not read, so never journaled or put back.
  if (t.desired.count("policy")) {
    auto policy = GetPolicy(iam, user);
    if (!policy) return policy.error();
    s.attrs["policy"] = *policy;
  }
  auto b = ReadBelongings(iam, user);
  if (!b) return b.error();
  s.private_data = Pack(*b);
  return s;
}

// An error of a call that means it was already done (a run cut off and started again).
Status Unless(Result<std::string> r, ErrorCode done) {
  if (r || r.error().code == done) return Status::Ok();
  return r.error();
}

// Everything IAM wants gone before it deletes a user, then the user.
Status DeleteUser(QueryClient& iam, const std::string& user) {
  auto b = ReadBelongings(iam, user);
  if (!b) return b.error();
  for (const std::string& key : b->access_keys)
    if (Status s =
            Unless(iam.Call("DeleteAccessKey", {{"UserName", user}, {"AccessKeyId", key}}), ErrorCode::kNotFound);
        !s)
      return s;
  for (const std::string& p : b->inline_policies)
    if (Status s = Unless(iam.Call("DeleteUserPolicy", {{"UserName", user}, {"PolicyName", p}}), ErrorCode::kNotFound);
        !s)
      return s;
  for (const std::string& arn : b->managed_policies)
    if (Status s = Unless(iam.Call("DetachUserPolicy", {{"UserName", user}, {"PolicyArn", arn}}), ErrorCode::kNotFound);
        !s)
      return s;
  for (const std::string& g : b->groups)
    if (Status s =
            Unless(iam.Call("RemoveUserFromGroup", {{"UserName", user}, {"GroupName", g}}), ErrorCode::kNotFound);
        !s)
      return s;
  if (Status s = Unless(iam.Call("DeleteLoginProfile", {{"UserName", user}}), ErrorCode::kNotFound); !s) return s;
  return Unless(iam.Call("DeleteUser", {{"UserName", user}}), ErrorCode::kNotFound);
}

// Path and policy as the target wants them, the user existing.
Status Converge(QueryClient& iam, const Target& t, const std::string& user, const std::string& path) {
  std::string want_path = StringAttr(t.desired, "path", "/");
  if (path != want_path)
    if (auto r = iam.Call("UpdateUser", {{"UserName", user}, {"NewPath", want_path}}); !r) return r.error();
  auto want = OptionalString(t.desired, "policy");
  if (!want) return Status::Ok();
  if (want->empty())
    return Unless(iam.Call("DeleteUserPolicy", {{"UserName", user}, {"PolicyName", kPolicyName}}),
                  ErrorCode::kNotFound);
  auto now = GetPolicy(iam, user);
  if (!now) return now.error();
  if (SamePolicy(*now, *want)) return Status::Ok();
  auto r = iam.Call("PutUserPolicy", {{"UserName", user}, {"PolicyName", kPolicyName}, {"PolicyDocument", *want}});
  if (!r) return r.error();
  return Status::Ok();
}

}  // namespace

TypeSchema IamUserType() {
  return {
      .name = "iam_user",
      .doc =
          "An IAM user: its path and the one inline policy reconcile manages on it (named \"reconcile\"). Deleting "
          "it deletes its access keys, inline policies, login profile, group memberships and managed policy "
          "attachments first; a rollback re-creates it with its path and policy only, so a delete that loses any "
          "of those (an access key's secret above all) is irreversible, and the plan says which.",
      .attrs =
          {
              // clang-format off
              {.name = "name", .type = AttrType::kString, .required = true, .identity = true, .check = NameCheck,
               .doc = "the user's name, e.g. \"tmp-migrator\""},
              {.name = "path", .type = AttrType::kString, .check = PathCheck, .default_value = "/",
               .doc = "the user's path, starting and ending with \"/\""},
              {.name = "policy", .type = AttrType::kString, .check = PolicyCheck,
               .doc = "the inline policy \"reconcile\" on the user, a JSON object compared as JSON; \"\" = none "
                      "(deleted), left out = not managed. IAM's policy variables are written $${aws:username}"},
              // clang-format on
          },
      .provider_kind = "aws",
  };
}

Result<State> ProbeIamUser(QueryClient& iam, const Target& t) {
  auto s = Read(iam, t);
  if (!s) return Error{s.error().message, s.error().code};
  return s;
}

Result<State> ApplyIamUser(QueryClient& iam, const Change& change) {
  const Target& t = change.target;
  const std::string user = StringAttr(t.desired, "name");
  if (change.action == Action::kDelete) {
    if (Status s = DeleteUser(iam, user); !s) return s.error();
  } else {
    auto path = GetPath(iam, user);
    if (!path) return path.error();
    if (!*path) {
      std::string want_path = StringAttr(t.desired, "path", "/");
      auto made = iam.Call("CreateUser", {{"UserName", user}, {"Path", want_path}});
      if (!made) return made.error();
      *path = want_path;
    }
    if (Status s = Converge(iam, t, user, **path); !s) return s.error();
  }
  auto after = Read(iam, t);
  if (!after) return after.error();
  if (after->exists != (change.action != Action::kDelete))
    return Error{t.address + ": IAM " + (after->exists ? "still has" : "has no") + " user " + user + " after " +
                 (change.action == Action::kDelete ? "deleting" : "creating") + " it"};
  return after;
}

void ReviewIamUser(const State& prior, Diff* diff) {
  if (const AttrChange* c = diff->Update("policy")) {
    const std::string* a = AsString(c->old_value);
    const std::string* b = AsString(c->new_value);
    if (a && b && SamePolicy(*a, *b)) diff->Drop("policy");
  }
  if (diff->action != Action::kDelete) return;
  std::string user = StringAttr(prior.attrs, "name");
  auto kept = nlohmann::json::parse(prior.private_data.str(), nullptr, false);
  if (!kept.is_object()) {
    // Planned from an earlier stage's spec, not from the world: how many keys it will have is
    // read when this stage begins. Said now, so apply does not stop halfway for it.
    diff->irreversible = true;
    diff->irreversible_reason = "deleting " + user +
                                " deletes any access keys it has by then (read when the stage begins); their "
                                "secrets cannot be recovered";
    return;
  }
  std::vector<std::string> lost;
  auto count = [&](const char* key) { return kept.contains(key) && kept[key].is_array() ? kept[key].size() : 0; };
  std::size_t keys = kept.value("access_keys", std::size_t{0});
  if (keys) lost.push_back("its " + std::to_string(keys) + " access key(s); their secrets cannot be recovered");
  if (kept.value("login_profile", false)) lost.push_back("its console password, which cannot be recovered");
  if (std::size_t n = count("inline_policies"))
    lost.push_back(std::to_string(n) + " inline policy(ies) not reconcile's, which a rollback does not put back");
  if (std::size_t n = count("managed_policies"))
    lost.push_back("its " + std::to_string(n) + " managed policy attachment(s), which a rollback does not redo");
  if (std::size_t n = count("groups"))
    lost.push_back("its membership of " + std::to_string(n) + " group(s), which a rollback does not redo");
  if (lost.empty()) return;
  std::string why = "deleting " + user + " deletes ";
  for (std::size_t i = 0; i < lost.size(); ++i) why += (i ? "; and " : "") + lost[i];
  diff->irreversible = true;
  diff->irreversible_reason = std::move(why);
}

}  // namespace reconcile::aws
