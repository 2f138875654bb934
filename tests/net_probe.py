#!/usr/bin/python3
"""Probe an HTTP server for a while, as a client that wants an answer:
a GET / on a new connection every PERIOD seconds, each given TIMEOUT
seconds; plus one keep-alive connection that asks at the start and again
at the end.  Prints one JSON line: how many probes were answered, how many
were not, the longest time between two answers (max_gap; from the start
to the first answer and from the last answer to the end count too), and
whether the kept-alive connection still answered at the end.

Used by tests/test_netdev_recovery.py, run inside a test's network
namespace or against 127.0.0.1.

    net_probe.py HOST PORT SECONDS [--period S] [--timeout S]
"""

import argparse
import http.client
import json
import socket
import time


def get(conn):
    conn.request('GET', '/')
    r = conn.getresponse()
    r.read()
    return r.status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('host')
    ap.add_argument('port', type=int)
    ap.add_argument('seconds', type=float)
    ap.add_argument('--period', type=float, default=0.1)
    ap.add_argument('--timeout', type=float, default=0.4)
    a = ap.parse_args()

    kept = http.client.HTTPConnection(a.host, a.port, timeout=10)
    kept_first = get(kept)
    start = last_ok = time.monotonic()
    end = start + a.seconds
    ok = failed = 0
    gap = 0.0
    while time.monotonic() < end:
        t = time.monotonic()
        c = http.client.HTTPConnection(a.host, a.port, timeout=a.timeout)
        try:
            good = get(c) == 200
        except (OSError, http.client.HTTPException):
            good = False
        finally:
            c.close()
        if good:
            now = time.monotonic()
            gap = max(gap, now - last_ok)
            last_ok = now
            ok += 1
        else:
            failed += 1
        time.sleep(max(0.0, a.period - (time.monotonic() - t)))
    gap = max(gap, time.monotonic() - last_ok)
    # The kept-alive connection lost whatever was in flight at a reset;
    # TCP resends it, so give it time.
    try:
        kept_last = get(kept)
    except (OSError, http.client.HTTPException) as e:
        kept_last = repr(e)
    print(json.dumps({'ok': ok, 'failed': failed, 'max_gap': round(gap, 3),
                      'kept_first': kept_first, 'kept_last': kept_last}))


if __name__ == '__main__':
    main()
