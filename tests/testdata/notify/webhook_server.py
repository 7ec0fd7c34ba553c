#!/usr/bin/env python3
"""A webhook receiver for tests/notify_test.sh: records every request it gets and answers as told.

Usage: webhook_server.py PORT_FILE LOG MODE
  Binds 127.0.0.1 on a port the kernel picks (port 0) and writes it to PORT_FILE once it
  listens. Each request is appended to LOG as one JSON line {"method", "path", "headers", "body"}
  before it is answered. MODE: "ok" answers 200 "ok" (as Slack does), "fail" answers 500, "hang"
  answers nothing for 20 s.
"""
import http.server
import json
import os
import sys
import threading
import time

port_file, log_path, mode = sys.argv[1:4]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8", "replace")
        record = {"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body}
        with lock, open(log_path, "a") as log:
            log.write(json.dumps(record) + "\n")
        if mode == "hang":
            time.sleep(20)
            return
        status = 500 if mode == "fail" else 200
        answer = b"ok" if status == 200 else b"internal error"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on a hanging answer


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
# Renamed into place: the test never reads half a port.
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
