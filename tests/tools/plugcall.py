#!/usr/bin/env python3
"""plugcall: a client of tiernet's plugin socket for the robustness and soak suites.

Requests are shaped as dockerd sends them (PROTOCOL.md section 1.1: POST, an empty Host
header, Go's User-Agent, the plugin Accept header, no Content-Type, compact JSON plus "\\n").
Every outcome is one word or "CODE BODY":
  refused   the connection could not be made (no socket, nobody accepting): the request never
            reached a daemon, dockerd would retry it with its body
  cut       the request was sent and the connection ended before a whole answer: it may have
            been executed; dockerd would retry it WITHOUT its body (PROTOCOL.md section 1.4)
  timeout   no whole answer within the time limit

usage:
  plugcall.py SOCK call PATH [BODY]
      one call on a fresh connection; prints the outcome
  plugcall.py SOCK time PATH N
      N calls of PATH (no body), each on a fresh connection, one after the other; prints
      "ms=..." per call and "median_ms=... max_ms=... failed=..."
  plugcall.py SOCK hold IDLE HALF SECONDS [KEEPALIVE]
      opens IDLE idle and HALF half-sent connections (interleaved), prints "ready" and one
      "t=... idle_open=... half_open=..." line per second for SECONDS,
      then "idle_closed=... half_closed=... half_closed_first_s=... half_closed_last_s=...
      idle_closed_first=... idle_answered=...".  A half-sent connection sends the request
      line, the headers and half of the announced body.  KEEPALIVE=1: each idle connection
      first makes one GetCapabilities call and stays open after the answer (kept alive);
      at the end each idle connection still open makes one more call (idle_answered counts
      the answers).  idle_closed_first: how many of the oldest idle connections were closed
      before any newer one was (the order they go in).
  plugcall.py SOCK par CONC
      reads "PATH<TAB>BODY" lines from stdin, makes each call on its own connection, CONC at
      a time; prints "N<TAB>OUTCOME" per line, in input order
  plugcall.py SOCK cycle NET PREFIX WORKER SANDBOX STOPFILE
      until STOPFILE exists: CreateEndpoint, Join, GetCapabilities, Leave, DeleteEndpoint
      of a new endpoint each cycle (IDs "9" WORKER cycle..., addresses PREFIX.(16+WORKER*40+
      cycle%40)/16, e.g. PREFIX 10.91.9), as dockerd would: a call that was refused is made
      again (dockerd retries those, PROTOCOL.md section 1.4) every 20 ms, up to 15 s.
      Prints "OP EP OUTCOME" per attempt
  plugcall.py SOCK backlog PID N
      stops the daemon PID (SIGSTOP), makes N GetCapabilities calls on fresh connections
      (they wait in the listen backlog, their requests sent), then sends it SIGTERM and
      SIGCONT: the stop meets N connections it has not accepted yet.  Prints the outcome of
      each call, one per line
  plugcall.py SOCK slowcall PATH BODY HOLDER_CONNS
      opens one connection, makes the call on it, and while it runs opens HOLDER_CONNS more
      idle connections; prints the call's outcome and "elapsed_s=..."
"""
import os
import select
import signal
import socket
import sys
import threading
import time

ACCEPT = "application/vnd.docker.plugins.v1.2+json"


def request_bytes(path, body):
    data = (body + "\n").encode() if body else b""
    head = ("POST %s HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\n"
            "Content-Length: %d\r\nAccept: %s\r\n\r\n" % (path, len(data), ACCEPT))
    return head.encode() + data


def connect(sock_path, timeout):
    """A connection, or None when it is refused.  The connect itself blocks, as dockerd's does:
    a full listen backlog makes it wait, not fail (Python's own timeout would turn that
    into EAGAIN)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sock_path)
    except OSError:
        s.close()
        return None
    s.settimeout(timeout)
    return s


def read_answer(s):
    """Reads one HTTP response; returns (code, body) or raises EOFError / socket.timeout."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    if length is None:  # HTTP/1.0 style: until the end
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return code, rest.decode("utf-8", "replace")
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError
        rest += chunk
    return code, rest[:length].decode("utf-8", "replace")


def exchange(s, path, body):
    """One call on connection s: the outcome string."""
    try:
        s.sendall(request_bytes(path, body))
    except OSError:
        return "cut"
    try:
        code, text = read_answer(s)
    except socket.timeout:
        return "timeout"
    except (EOFError, OSError):
        return "cut"
    return "%d %s" % (code, text.replace("\n", ""))


def call(sock_path, path, body="", timeout=30.0):
    s = connect(sock_path, timeout)
    if s is None:
        return "refused"
    try:
        return exchange(s, path, body)
    finally:
        s.close()


def cmd_call(sock_path, args):
    print(call(sock_path, args[0], args[1] if len(args) > 1 else ""))


def cmd_time(sock_path, args):
    path, n = args[0], int(args[1])
    times, failed = [], 0
    for _ in range(n):
        t0 = time.monotonic()
        out = call(sock_path, path, "", 30.0)
        ms = (time.monotonic() - t0) * 1000
        if not out.startswith("200 "):
            failed += 1
        times.append(ms)
        print("ms=%.2f %s" % (ms, out[:80]), flush=True)
    times.sort()
    med = times[len(times) // 2] if times else 0
    print("median_ms=%.2f max_ms=%.2f failed=%d" % (med, times[-1] if times else 0, failed))


def raise_nofile():
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, 65536)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, ValueError, OSError):
        pass


def closed(s):
    """Has the server ended connection s (EOF or reset), without blocking?"""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096, socket.MSG_PEEK) == b""
    except OSError:
        return True


def cmd_hold(sock_path, args):
    n_idle, n_half, seconds = int(args[0]), int(args[1]), float(args[2])
    keepalive = len(args) > 3 and args[3] == "1"
    raise_nofile()
    idle, half = [], []   # [socket, opened_at, closed_at]
    i = j = 0
    failed = 0
    while i < n_idle or j < n_half:
        if i < n_idle:
            s = connect(sock_path, 10.0)
            if s is None:
                failed += 1
            else:
                if keepalive and exchange(s, "/NetworkDriver.GetCapabilities", "")[:4] != "200 ":
                    failed += 1
                idle.append([s, time.monotonic(), None])
            i += 1
        if j < n_half:
            s = connect(sock_path, 10.0)
            if s is None:
                failed += 1
            else:
                try:
                    s.sendall(b"POST /Plugin.Activate HTTP/1.1\r\nHost: \r\n"
                              b"Content-Length: 200\r\n\r\n" + b"{" * 100)
                except OSError:
                    pass
                half.append([s, time.monotonic(), None])
            j += 1
    t0 = time.monotonic()
    print("ready idle=%d half=%d failed=%d" % (len(idle), len(half), failed), flush=True)
    end = t0 + seconds
    next_report = t0
    while time.monotonic() < end:
        now = time.monotonic()
        for c in idle + half:
            if c[2] is None and closed(c[0]):
                c[2] = now
        if now >= next_report:
            print("t=%.1f idle_open=%d half_open=%d" % (
                now - t0, sum(c[2] is None for c in idle), sum(c[2] is None for c in half)),
                flush=True)
            next_report += 1.0
        time.sleep(0.2)
    now = time.monotonic()
    for c in idle + half:
        if c[2] is None and closed(c[0]):
            c[2] = now
    hc = [c[2] - t0 for c in half if c[2] is not None]
    # how many of the oldest idle connections went before any newer one did
    first = 0
    for c in idle:
        if c[2] is None:
            break
        first += 1
    answered = 0
    if keepalive:
        for c in idle:
            if c[2] is None:
                c[0].settimeout(10.0)
                if exchange(c[0], "/NetworkDriver.GetCapabilities", "")[:4] == "200 ":
                    answered += 1
    print("idle_closed=%d half_closed=%d half_closed_first_s=%.1f half_closed_last_s=%.1f "
          "idle_closed_first=%d idle_answered=%d" % (
              sum(c[2] is not None for c in idle), len(hc), min(hc) if hc else -1,
              max(hc) if hc else -1, first, answered), flush=True)
    for c in idle + half:
        c[0].close()


def cmd_par(sock_path, args):
    conc = int(args[0])
    lines = [l.rstrip("\n") for l in sys.stdin if l.strip()]
    out = [None] * len(lines)
    nxt = [0]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= len(lines):
                return
            path, _, body = lines[k].partition("\t")
            out[k] = call(sock_path, path, body, 60.0)

    threads = [threading.Thread(target=worker) for _ in range(min(conc, len(lines)) or 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, o in enumerate(out):
        print("%d\t%s" % (k, o))


def cmd_slowcall(sock_path, args):
    path, body, n = args[0], args[1], int(args[2])
    raise_nofile()
    res = {}

    def run():
        t0 = time.monotonic()
        res["out"] = call(sock_path, path, body, 60.0)
        res["s"] = time.monotonic() - t0

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.5)
    others = []
    for _ in range(n):
        s = connect(sock_path, 10.0)
        if s is not None:
            others.append(s)
    t.join()
    print(res["out"])
    print("elapsed_s=%.1f" % res["s"])
    for s in others:
        s.close()


def cmd_cycle(sock_path, args):
    net, prefix, worker, sandbox, stop = args[0], args[1], int(args[2]), args[3], args[4]
    ids = '"NetworkID":"%s","EndpointID":"%s"'
    opts = '"Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}'
    i = 0

    def do(op, ep, path, body):
        for _ in range(750):
            out = call(sock_path, path, body, 30.0)
            print("%s %s %s" % (op, ep, out), flush=True)
            if out != "refused":
                return out
            time.sleep(0.02)
        return out

    while not os.path.exists(stop):
        ep = ("9%x%09x" % (worker, i)).ljust(64, "0")
        idp = ids % (net, ep)
        addr = "%s.%d/16" % (prefix, 16 + worker * 40 + i % 40)
        i += 1
        out = do("create", ep, "/NetworkDriver.CreateEndpoint",
                 '{%s,"Interface":{"Address":"%s","AddressIPv6":"","MacAddress":""},%s}'
                 % (idp, addr, opts))
        if not out.startswith('200 {"Interface"'):
            continue
        do("join", ep, "/NetworkDriver.Join", '{%s,"SandboxKey":"%s",%s}' % (idp, sandbox, opts))
        do("caps", ep, "/NetworkDriver.GetCapabilities", "")
        do("leave", ep, "/NetworkDriver.Leave", "{%s}" % idp)
        do("delete", ep, "/NetworkDriver.DeleteEndpoint", "{%s}" % idp)


def cmd_backlog(sock_path, args):
    pid, n = int(args[0]), int(args[1])
    conns = []
    os.kill(pid, signal.SIGSTOP)
    try:
        for _ in range(n):
            s = connect(sock_path, 10.0)
            if s is None:
                conns.append(None)
                continue
            try:
                s.sendall(request_bytes("/NetworkDriver.GetCapabilities", ""))
            except OSError:
                s.close()
                s = "cut"
            conns.append(s)
    finally:
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)
    for s in conns:
        if s is None or s == "cut":
            print("refused" if s is None else s)
            continue
        try:
            code, body = read_answer(s)
            print("%d %s" % (code, body))
        except socket.timeout:
            print("timeout")
        except (EOFError, OSError):
            print("cut")
        finally:
            s.close()


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    sock_path, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    cmds = {"call": cmd_call, "time": cmd_time, "hold": cmd_hold, "par": cmd_par,
            "slowcall": cmd_slowcall, "cycle": cmd_cycle, "backlog": cmd_backlog}
    if cmd not in cmds:
        sys.stderr.write(__doc__)
        return 2
    cmds[cmd](sock_path, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
