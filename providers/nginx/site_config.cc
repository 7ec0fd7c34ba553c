#include "providers/nginx/site_config.h"

#include <nlohmann/json.hpp>

namespace reconcile::nginx {

namespace {

const char* kDefaultPage =
    "<!doctype html><title>Down for maintenance</title><h1>Down for maintenance</h1>"
    "<p>We are moving to a new server and will be back shortly.</p>";

const char* kFileAttrs[] = {"server_names",        "listen",         "proxy_pass",      "maintenance",
                            "maintenance_page",    "redirect_https", "tls_certificate", "tls_certificate_key",
                            "client_max_body_size"};

// nginx single-quoted string: backslash and quote escaped.
std::string NginxQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

AttrMap SiteAttrs(const AttrMap& desired) {
  AttrMap out;
  for (const char* key : kFileAttrs)
    if (auto it = desired.find(key); it != desired.end() && !IsNull(it->second)) out[key] = it->second;
  return out;
}

std::string RenderSite(const std::string& address, const AttrMap& all) {
  AttrMap a = SiteAttrs(all);
  std::string out = "# Managed by reconcile (" + address + "); changes made here will be overwritten.\n";
  out += "# reconcile: " + ToJson(a).dump() + "\n";
  bool tls = !StringAttr(a, "tls_certificate").empty();
  out += "server {\n";
  out += "    listen " + StringAttr(a, "listen", tls ? "443" : "80") + (tls ? " ssl" : "") + ";\n";
  std::string names;
  for (const std::string& n : ListAttr(a, "server_names")) names += " " + n;
  out += "    server_name" + names + ";\n";
  if (tls) {
    out += "    ssl_certificate " + StringAttr(a, "tls_certificate") + ";\n";
    out += "    ssl_certificate_key " + StringAttr(a, "tls_certificate_key") + ";\n";
  }
  if (!StringAttr(a, "client_max_body_size").empty())
    out += "    client_max_body_size " + StringAttr(a, "client_max_body_size") + ";\n";
  out += "    location / {\n";
  if (BoolAttr(a, "redirect_https").value_or(false)) {
    out += "        return 301 https://$host$request_uri;\n";
  } else if (BoolAttr(a, "maintenance").value_or(false)) {
    out += "        default_type text/html;\n";
    out += "        add_header Retry-After 600 always;\n";
    out += "        return 503 " + NginxQuote(StringAttr(a, "maintenance_page", kDefaultPage)) + ";\n";
  } else if (!StringAttr(a, "proxy_pass").empty()) {
    out += "        proxy_pass " + StringAttr(a, "proxy_pass") + ";\n";
    out += "        proxy_set_header Host $host;\n";
    out += "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n";
    out += "        proxy_set_header X-Forwarded-Proto $scheme;\n";
  } else {
    out += "        return 404;\n";
  }
  out += "    }\n}\n";
  return out;
}

Result<ParsedSite> ParseSite(const std::string& address, const std::string& text) {
  std::size_t at = text.find("\n# reconcile: ");
  if (at == std::string::npos)
    return Error{
        "the site file is not one reconcile wrote (no '# reconcile:' line); move it aside or adopt it by "
        "deleting it first"};
  std::size_t start = at + 14;
  std::size_t end = text.find('\n', start);
  auto j = nlohmann::json::parse(text.substr(start, end - start), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"the '# reconcile:' line of the site file is damaged"};
  ParsedSite site;
  site.attrs = AttrMapFromJson(j);
  site.hand_edited = RenderSite(address, site.attrs) != text;
  // The file is all reconcile's: a switch it does not set is off. Said so, a rollback to a
  // stage before `maintenance = true` sees that it must turn the page off again.
  for (const char* flag : {"maintenance", "redirect_https"}) site.attrs.emplace(flag, false);
  return site;
}

}  // namespace reconcile::nginx
