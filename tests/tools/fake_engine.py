#!/usr/bin/env python3
"""A fake Docker Engine API on a Unix socket, for tests of names across tiers.

usage: fake_engine.py SOCKET STATE_FILE

STATE_FILE holds {"<container id>": <inspect object>, ...}; the test rewrites it (atomically,
with rename) to start, stop or change containers.  The server answers GET /containers/json,
GET /containers/ID/json and streams GET /events: one container event for every container
that appeared, changed or disappeared in the file.  Anything but GET is answered 405 and
logged to stderr, so a test can prove tiernet sends GET only.
"""
import json
import os
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler

SOCK, STATE = sys.argv[1], sys.argv[2]


def load():
    try:
        with open(STATE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def address_string(self):
        return "unix"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-engine: " + (fmt % args) + "\n")

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/v1.") and path.count("/") >= 2:
            path = "/" + path.split("/", 2)[2]
        state = load()
        if path == "/containers/json":
            return self.reply(200, [{"Id": i} for i in state])
        if path.startswith("/containers/") and path.endswith("/json"):
            cid = path[len("/containers/"):-len("/json")]
            if cid in state:
                return self.reply(200, state[cid])
            return self.reply(404, {"message": "No such container: " + cid})
        if path == "/events":
            return self.events(state)
        return self.reply(404, {"message": "not here"})

    def events(self, state):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.flush()
        seen = json.dumps(state, sort_keys=True)
        old = state
        while True:
            time.sleep(0.02)
            new = load()
            text = json.dumps(new, sort_keys=True)
            if text == seen:
                continue
            for cid in set(old) | set(new):
                if old.get(cid) != new.get(cid):
                    ev = {"Type": "container", "Action": "update", "Actor": {"ID": cid}}
                    self.wfile.write((json.dumps(ev) + "\n").encode())
            self.wfile.flush()
            seen, old = text, new

    def refuse(self):
        self.log_message("REFUSED %s %s", self.command, self.path)
        self.reply(405, {"message": "GET only"})

    do_POST = do_PUT = do_DELETE = do_HEAD = refuse


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCK):
    os.unlink(SOCK)
Server(SOCK, Handler).serve_forever()
