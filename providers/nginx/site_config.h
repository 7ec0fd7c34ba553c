// An nginx_site's config file: rendered from its attributes, and read back. The file carries
// its attributes as a JSON comment, so the probe reads exactly what reconcile wrote — and a
// file whose body no longer matches them was edited by hand, which the probe reports.
#pragma once

#include <string>

#include "engine/result.h"
#include "engine/value.h"

namespace reconcile::nginx {

// The attributes that shape the file (server_names, listen, proxy_pass, maintenance, …).
std::string RenderSite(const std::string& address, const AttrMap& attrs);

struct ParsedSite {
  AttrMap attrs;
  bool hand_edited = false;  // the body differs from what the attributes render to
};
Result<ParsedSite> ParseSite(const std::string& address, const std::string& text);

// The attributes that belong in the file (not config_dir or the nginx command).
AttrMap SiteAttrs(const AttrMap& desired);

}  // namespace reconcile::nginx
