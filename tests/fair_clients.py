#!/usr/bin/python3
"""CLIENTS keep-alive HTTP clients download PATH over and over for SECONDS;
prints one JSON line: downloads per client, and the errors (a wrong
status or length, a timeout, a reset).  Run inside a test's network
namespace (tests/test_httpd.py's fair-share test).

    fair_clients.py HOST PORT PATH SIZE [--clients N] [--seconds S]
"""

import argparse
import http.client
import json
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('host')
    ap.add_argument('port', type=int)
    ap.add_argument('path')
    ap.add_argument('size', type=int)
    ap.add_argument('--clients', type=int, default=64)
    ap.add_argument('--seconds', type=float, default=12)
    a = ap.parse_args()
    done = [0] * a.clients
    errors = []
    stop = time.monotonic() + a.seconds

    def client(i):
        c = http.client.HTTPConnection(a.host, a.port, timeout=60)
        try:
            while time.monotonic() < stop:
                c.request('GET', a.path)
                r = c.getresponse()
                body = r.read()
                if r.status != 200 or len(body) != a.size:
                    errors.append([i, r.status, len(body)])
                    return
                done[i] += 1
        except (OSError, http.client.HTTPException) as e:
            errors.append([i, repr(e)])
        finally:
            c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({'done': done, 'errors': errors}))


if __name__ == '__main__':
    main()
