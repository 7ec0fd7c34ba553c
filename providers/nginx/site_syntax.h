// What an nginx_site's values may be, in nginx's own syntax. Each value is pasted into a
// directive of the site file, so a value holding `;`, `{`, `}`, `#`, a quote, `$` or a line
// break would write directives of its own (`x.example; location /leak/ { alias /etc/; } #`
// once served the host's /etc). Each check returns "" when the value is fine, else what is
// wrong and what nginx takes there; the spec loader reports it at the value's file:line:col.
#pragma once

#include <string>

#include "engine/result.h"
#include "engine/value.h"

namespace reconcile::nginx {

// "www.example.com", "*.example.com", ".example.com", "www.example.*" or "_".
std::string CheckServerName(const std::string& s, const AttrMap& = {});
// "80", "127.0.0.1:8080", "[::]:443", "*:80", "unix:/run/x.sock", then flags
// ("ssl", "http2", "default_server", "reuseport", "ipv6only=on", "backlog=511", …).
std::string CheckListen(const std::string& s, const AttrMap& = {});
// "http://host[:port][/path]", "https://…", "http://unix:/path/to.sock:[/path]".
std::string CheckProxyPass(const std::string& s, const AttrMap& = {});
// An absolute path without spaces: certificate, key, config folder.
std::string CheckPath(const std::string& s, const AttrMap& = {});
// "50m", "1g", "8k", "1048576".
std::string CheckSize(const std::string& s, const AttrMap& = {});
// HTML of the maintenance page: written quoted, so anything but `$` and control characters.
std::string CheckPage(const std::string& s, const AttrMap& = {});

// Every value of a site at once: the provider's last word before it writes the file, for
// values that reached it some other way than the spec loader.
Status CheckSite(const std::string& address, const AttrMap& attrs);

}  // namespace reconcile::nginx
