#!/usr/bin/env python3
"""A punt storm from inside a lab VM: one UDP datagram to each address of
one or more ranges, round after round, as fast as one core sends, bounded
by a packet count and a time limit.

    udp_storm.py --range 10.8.0.1:100000 --range 10.10.0.1:100000
                 [--packets 2000000] [--seconds 20] [--port 9] [--pps 0]

Prints one JSON line: packets sent, send errors (a full socket buffer),
seconds, packets per second.
"""
import argparse
import ipaddress
import json
import socket
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--range", action="append", required=True,
                   help="FIRST:COUNT, e.g. 10.8.0.1:100000")
    p.add_argument("--packets", type=int, default=2_000_000)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--port", type=int, default=9)
    p.add_argument("--pps", type=int, default=0, help="packets per second; 0: as fast as it goes")
    a = p.parse_args()
    if not 0 < a.seconds <= 600 or not 0 < a.packets <= 100_000_000:
        raise SystemExit("--seconds in (0, 600], --packets in (0, 1e8]")
    ranges = []
    for r in a.range:
        first, count = r.split(":")
        base = int(ipaddress.IPv4Address(first))
        ranges.append([str(ipaddress.IPv4Address(base + i)) for i in range(int(count))])
    # Interleaved: each round sends one datagram to every destination of
    # every range, alternating between them.
    order = [addr for group in zip(*ranges) for addr in group]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    payload = b"shortcut-storm"
    sent = errors = 0
    start = time.monotonic()
    deadline = start + a.seconds
    while sent + errors < a.packets:
        for addr in order:
            try:
                s.sendto(payload, (addr, a.port))
                sent += 1
            except (BlockingIOError, OSError):
                errors += 1
            if (sent + errors) % 256 == 0:
                now = time.monotonic()
                if now >= deadline:
                    break
                if a.pps:  # Paced: sleep until this many packets are due.
                    due = start + (sent + errors) / a.pps
                    if due > now:
                        time.sleep(due - now)
            if sent + errors >= a.packets:
                break
        if time.monotonic() >= deadline:
            break
    seconds = time.monotonic() - start
    print(json.dumps({"sent": sent, "errors": errors, "seconds": round(seconds, 2),
                      "pps": round(sent / seconds)}))


if __name__ == "__main__":
    main()
