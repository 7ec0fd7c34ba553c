# A web server with one virtual host, as a new server answers before DNS moves to it: 200
# only for Host NAME (with or without :PORT) and, when a token is given, X-Token TOKEN;
# 421 for any other name, 403 for a wrong token.
# Usage: python3 vhost_server.py PORT NAME [TOKEN]
import http.server
import sys

port, name = int(sys.argv[1]), sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 else None


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host != name:
            status, body = 421, "no site for " + host
        elif token is not None and self.headers.get("X-Token") != token:
            status, body = 403, "bad token"
        else:
            status, body = 200, "hello from " + name
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
