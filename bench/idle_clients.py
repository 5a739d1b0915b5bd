#!/usr/bin/env python3
# Idle keep-alive clients for bench/idle.sh: opens COUNT connections to 127.0.0.1:PORT, sends
# one GET of PATH on each and reads the whole answer, then holds them all open (idle) so the
# server's memory can be measured; bounded in time.
#
# Usage: idle_clients.py PORT PATH COUNT READY_FILE HOLD_S
#   Writes "<count> <seconds to open>" to READY_FILE once every connection has had its answer,
#   then holds them until SIGTERM or HOLD_S; at exit prints how many the server still kept
#   open (a server that dropped idle connections must not look cheap).
import os
import select
import signal
import socket
import sys
import time

ANSWER_TIMEOUT_S = 10  # one answer on loopback; far above any sane figure


def read_answer(sock: socket.socket) -> None:
    """Reads one HTTP/1.1 answer with a Content-Length body; fails unless it is a 200."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before the answer's headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        raise RuntimeError(f"answer was {lines[0]!r}")
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise RuntimeError("answer without Content-Length")
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed inside the body")
        body += chunk


def still_open(socks: list) -> int:
    """Connections the server has not closed: not readable, or readable without EOF."""
    # poll, not select: select cannot take descriptors above 1023.
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    readable = {fd for fd, _ in poller.poll(0)}
    count = 0
    for s in socks:
        if s.fileno() not in readable:
            count += 1
            continue
        try:
            if s.recv(1, socket.MSG_PEEK):
                count += 1
        except OSError:
            pass
    return count


def main() -> int:
    port, path, count, ready_file, hold_s = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                             sys.argv[4], float(sys.argv[5]))
    stop = False

    def on_term(_signum, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    socks = []
    start = time.monotonic()
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_S)
        s.sendall(request)
        read_answer(s)
        socks.append(s)
    opened_s = time.monotonic() - start
    with open(ready_file + ".tmp", "w") as f:
        f.write(f"{len(socks)} {opened_s:.3f}\n")
    os.replace(ready_file + ".tmp", ready_file)
    deadline = time.monotonic() + hold_s
    while not stop and time.monotonic() < deadline:
        time.sleep(0.05)
    print(still_open(socks), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
