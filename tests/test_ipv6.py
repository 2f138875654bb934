"""IPv6 beside IPv4, as a user sees it (issue 15): the guest's addresses
(link-local from the MAC, the static fd00:5::3/64 it is built with, SLAAC
from a router's advertisement, none with ip6=off), ping6, HTTP and HTTPS
with curl -6, TCP and UDP echo over IPv6, the bad ip6= and gateway6=
arguments and build options, and SLAAC over QEMU's user network.

Safety: as in tests/test_net.py, every guest on tap runs inside a network
namespace of the test's own (scripts/tap-setup.sh --netns, which gives the
tap fd00:5::1/64 besides 10.0.5.1/24), and every client and the router
advertisement run inside it too; the namespace is deleted afterwards.
"""

import json
import re
import socket
import subprocess

import pytest

import test_net
from conftest import TOP, boot
from test_net import ECHO_PORT, GUEST_IP, LISTENING, need_tool

GUEST_IP6 = 'fd00:5::3'          # the build's default (scons ip6=)
HOST_IP6 = 'fd00:5::1'           # scripts/tap-setup.sh's default --address6
GUEST_LL = 'fe80::5054:ff:fe12:3456'     # from QEMU's default MAC 52:54:00:12:34:56
READY6 = re.compile(r'^net: ip6 fd00:5::3/64 ready$', re.M)
READY_LL = re.compile(r'^net: ip6 fe80::5054:ff:fe12:3456/64 ready \(link-local\)$', re.M)
HTTPD_READY = re.compile(r'^httpd: listening on port 80\b', re.M)
HTTPS_READY = re.compile(r'^httpd: listening on port 443 \(HTTPS\)', re.M)
TROUBLE = re.compile(r'^\*\*\* |^backtrace:|assertion|\]\[ERROR\]', re.M)


class TapGuest(test_net.TapGuest):
    """test_net's, with the static IPv6 address ready by default (duplicate
    address detection takes about a second)."""

    def __init__(self, service, *args, app_args=(), ready=(READY6,)):
        super().__init__(service=service, args=args, app_args=app_args, ready=ready)


def curl(g, url, *opts):
    """curl inside g's namespace: (status, body)."""
    need_tool('curl', 'curl')
    p = g.run('curl', '-sS', '-g', '--max-time', '20', '-o', '-', '-w', '\n%{http_code}',
              *opts, url, check=False, timeout=30)
    assert p.returncode == 0, 'curl %s: %s%s\n%s' % (url, p.stdout, p.stderr,
                                                     g.guest.describe())
    body, _, code = p.stdout.rpartition('\n')
    return int(code), body


# TCP echo of SIZE bytes and UDP echoes of several sizes (the largest in
# fragments) to ADDR, from inside the namespace; prints "ok".
ECHO_CLIENT = r'''
import os, socket, sys, threading
addr, port = sys.argv[1], int(sys.argv[2])
data = os.urandom(int(sys.argv[3]))
s = socket.create_connection((addr, port), timeout=20)
got = []
def read():
    while sum(map(len, got)) < len(data):
        b = s.recv(65536)
        if not b:
            break
        got.append(b)
t = threading.Thread(target=read)
t.start()
s.sendall(data)
t.join(30)
got = b''.join(got)
assert got == data, 'TCP echo: %d bytes back of %d' % (len(got), len(data))
s.close()
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
u = socket.socket(fam, socket.SOCK_DGRAM)
u.settimeout(3)
for n in (1, 1232, 1452, 8000, 30000):
    d = os.urandom(n)
    for attempt in range(5):
        u.sendto(d, (addr, port))
        try:
            got, _ = u.recvfrom(65536)
            break
        except socket.timeout:
            continue
    else:
        raise SystemExit('UDP echo of %d bytes: no answer' % n)
    assert got == d, 'UDP echo of %d bytes: %d bytes back, different' % (n, len(got))
print('ok')
'''


def echo_both(g, size=1 << 20):
    """Echo over IPv6 and IPv4, TCP and UDP."""
    for addr in (GUEST_IP6, GUEST_IP):
        assert g.python(ECHO_CLIENT, addr, str(ECHO_PORT), str(size)).strip() == 'ok'


def ping6(g, addr, count=3):
    p = g.run('ping', '-6', '-c', count, '-i', '0.2', '-W', '3', addr, check=False,
              timeout=30)
    return p.returncode == 0, p.stdout + p.stderr


# ---- a static address ------------------------------------------------------

@pytest.fixture(scope='module')
def echo6():
    with TapGuest('echo', ready=(LISTENING, READY6, READY_LL)) as g:
        yield g


def test_boot_line_shows_ipv6(echo6):
    out = echo6.guest.output
    assert re.search(r'^net: ip6 fd00:5::3/64 gw fd00:5::1, fe80::5054:ff:fe12:3456 '
                     r'\(link-local\)$', out, re.M), out
    assert re.search(r'^echo: listening on 10\.0\.5\.3 and IPv6 port 7', out, re.M), out


def test_ping6_static_and_link_local(echo6):
    ok, out = ping6(echo6, GUEST_IP6)
    assert ok, out
    ok, out = ping6(echo6, GUEST_LL + '%tap10')
    assert ok, out
    # A large ping in fragments, both ways.
    p = echo6.run('ping', '-6', '-c', '2', '-s', '20000', '-W', '5', GUEST_IP6, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    # The host learnt the guest's MAC by neighbour discovery.
    neigh = echo6.run('ip', '-6', 'neigh', 'show', 'dev', 'tap10').stdout
    assert re.search(r'fd00:5::3 lladdr 52:54:00:12:34:56', neigh), neigh


def test_echo_tcp_udp_over_ipv6(echo6):
    echo_both(echo6)


def test_link_local_tcp(echo6):
    code = r'''
import socket, sys
s = socket.create_connection((sys.argv[1], 7), timeout=10)
s.sendall(b'link-local')
assert s.recv(100) == b'link-local'
print('ok')
'''
    assert echo6.python(code, GUEST_LL + '%tap10').strip() == 'ok'


def test_gateway6_routes_off_link(echo6):
    """A client outside the guest's /64 is reached through gateway6
    (fd00:5::1, the host): the namespace gives itself fd00:99::1 and sends
    from it."""
    echo6.run('ip', '-6', 'addr', 'add', 'fd00:99::1/128', 'dev', 'lo')
    code = r'''
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(10)
s.bind(('fd00:99::1', 0))
s.connect(('fd00:5::3', 7))
s.sendall(b'off-link')
assert s.recv(100) == b'off-link'
print('ok')
'''
    assert echo6.python(code).strip() == 'ok'


# ---- httpd: HTTP and HTTPS over IPv6 ----------------------------------------

@pytest.fixture(scope='module')
def httpd6():
    with TapGuest('httpd', '--tls', app_args=('--access-log',),
                  ready=(HTTPD_READY, HTTPS_READY, READY6)) as g:
        yield g


def test_curl6_http_and_https(httpd6):
    code4, body4 = curl(httpd6, 'http://%s/' % GUEST_IP)
    code6, body6 = curl(httpd6, 'http://[%s]/' % GUEST_IP6, '-6')
    assert code4 == code6 == 200
    assert body6 == body4 and len(body6) > 100
    code, body = curl(httpd6, 'https://[%s]/' % GUEST_IP6, '-6', '-k')
    assert code == 200 and body == body4
    code, body = curl(httpd6, 'https://[%s]/' % GUEST_IP6, '-6', '-k', '--tlsv1.2',
                      '--tls-max', '1.2')
    assert code == 200 and body == body4
    # The access log names the IPv6 client in RFC 5952's form.
    httpd6.guest.wait_for(re.compile(r'^\[[^]]+\] fd00:5::1 "GET / HTTP/1\.1" 200 ', re.M),
                          10)


def test_stats_show_ipv6_addresses(httpd6):
    code, body = curl(httpd6, 'http://[%s]/_limpet/stats' % GUEST_IP6, '-6')
    assert code == 200
    net = json.loads(body)['net']
    assert net['ip'] == GUEST_IP and net['ip6_mode'] == 'static', net
    assert net['gateway6'] == HOST_IP6, net
    addrs = {a['address']: a for a in net['ip6']}
    assert addrs[GUEST_IP6] == {'address': GUEST_IP6, 'prefix': 64, 'ready': True}, net
    assert addrs[GUEST_LL]['ready'] and addrs[GUEST_LL]['prefix'] == 64, net


# 50 clients at once, half over IPv6, half over IPv4, 20 keep-alive
# requests each; prints the answers' statuses counted.
LOAD = r'''
import collections, http.client, sys, threading
counts = collections.Counter()
lock = threading.Lock()
def client(i):
    host = sys.argv[1] if i % 2 else sys.argv[2]
    try:
        c = http.client.HTTPConnection(host, 80, timeout=30)
        for k in range(20):
            c.request('GET', '/' if k % 2 else '/missing-%d' % k)
            r = c.getresponse()
            r.read()
            with lock:
                counts[r.status] += 1
        c.close()
    except Exception as e:
        with lock:
            counts[type(e).__name__] += 1
ts = [threading.Thread(target=client, args=(i,)) for i in range(50)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(sorted(counts.items()))
'''


def test_concurrent_clients_both_families(httpd6):
    """Load over IPv6 and IPv4 at once: every answer right, no payload
    byte copied, and afterwards every connection and receive buffer back."""
    out = httpd6.python(LOAD, GUEST_IP6, GUEST_IP, timeout=120)
    assert out.strip() == str([(200, 500), (404, 500)]), out
    stats_code = r'''
import http.client, json, sys, time
for _ in range(50):
    c = http.client.HTTPConnection(sys.argv[1], 80, timeout=10)
    c.request('GET', '/_limpet/stats')
    s = json.loads(c.getresponse().read())
    c.close()
    if s['open'] == 1 and s['rx_buffers']['held'] == 0:
        break
    time.sleep(0.2)
print(s['open'], s['rx_buffers']['held'], s['driver']['bytes_copied'])
'''
    opened, held, copied = httpd6.python(stats_code, GUEST_IP6).split()
    assert (opened, held) == ('1', '0'), (opened, held)
    assert copied == '0', 'payload bytes copied on the data path: %s' % copied
    assert not TROUBLE.search(httpd6.guest.output), httpd6.guest.output


# A neighbour advertisement claiming the guest's fd00:5::3 for another
# MAC, and a packet too big with an MTU below IPv6's 1280, each sent
# twice; prints "sent".
SPOOF = r'''
import logging
logging.getLogger('scapy.runtime').setLevel(logging.ERROR)
from scapy.all import (Ether, IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, ICMPv6PacketTooBig,
                       TCP, sendp)
na = (Ether(src='02:00:00:00:66:66', dst='33:33:00:00:00:01') /
      IPv6(src='fe80::6666', dst='ff02::1', hlim=255) /
      ICMPv6ND_NA(tgt='fd00:5::3', R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:66:66'))
quoted = IPv6(src='fd00:5::3', dst='fd00:5::1') / TCP(sport=80, dport=40000, flags='A')
ptb = (Ether(dst='52:54:00:12:34:56') / IPv6(src='fd00:5::1', dst='fd00:5::3') /
       ICMPv6PacketTooBig(mtu=600) / bytes(quoted))
sendp([na, ptb], iface='tap10', count=2, inter=0.1, verbose=False)
print('sent')
'''


def stats_net(g):
    code, body = curl(g, 'http://[%s]/_limpet/stats' % GUEST_IP6, '-6')
    assert code == 200
    return json.loads(body)['net']


def test_guard_keeps_address_and_path_mtu(httpd6):
    """What lwIP 2.1.3 would take (net/port/ip6_guard.c): a spoofed
    advertisement for the guest's address, which would mark it
    duplicated, and a packet too big below 1280, which would break
    fragmentation, are dropped and counted; the guest serves as before."""
    before = stats_net(httpd6)['ip6_drops']
    assert httpd6.python(SPOOF).strip() == 'sent'
    after = stats_net(httpd6)['ip6_drops']
    assert after['na_ours'] == before['na_ours'] + 2, (before, after)
    assert after['ptb_mtu'] == before['ptb_mtu'] + 2, (before, after)
    ok, out = ping6(httpd6, GUEST_IP6)
    assert ok, out
    p = httpd6.run('ping', '-6', '-c', '2', '-s', '3000', '-W', '5', GUEST_IP6, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    net = stats_net(httpd6)
    assert {'address': GUEST_IP6, 'prefix': 64, 'ready': True} in net['ip6'], net


def test_host_header_ip_literals(httpd6):
    """Bracketed IPv6 literals in Host are taken, with and without a port;
    malformed ones are refused."""
    for host in ('[fd00:5::3]', '[fd00:5::3]:80', '[FD00:5::3]'):
        code, _ = curl(httpd6, 'http://[%s]/' % GUEST_IP6, '-6', '-H', 'Host: ' + host)
        assert code == 200, host
    for host in ('[fd00:5::3', 'fd00:5::3', '[fd00:5::3]x', '[fd00:5::3]:8o'):
        code, _ = curl(httpd6, 'http://[%s]/' % GUEST_IP6, '-6', '-H', 'Host: ' + host)
        assert code == 400, host


def test_redirect_keeps_ip_literal():
    """--redirect-https over IPv6: the Location names the host as the
    client gave it, and without a Host (HTTP/1.0) the address the client
    reached, in brackets."""
    with TapGuest('httpd', '--tls', app_args=('--redirect-https',),
                  ready=(HTTPD_READY, READY6)) as g:
        code, _ = curl(g, 'http://[%s]/docs/?a=1' % GUEST_IP6, '-6', '-D', '/dev/stderr')
        assert code == 301
        code = r'''
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=10)
s.sendall(sys.argv[2].encode())
print(s.makefile('rb').read().decode('latin-1'))
'''
        out = g.python(code, GUEST_IP6, 'GET /a?b HTTP/1.1\r\nHost: [fd00:5::3]:80\r\n'
                       'Connection: close\r\n\r\n')
        assert 'Location: https://[fd00:5::3]/a?b\n' in out, out
        out = g.python(code, GUEST_IP6, 'GET /a HTTP/1.0\r\n\r\n')
        assert 'Location: https://[fd00:5::3]/a\n' in out, out
        out = g.python(code, GUEST_IP, 'GET /a HTTP/1.0\r\n\r\n')
        assert 'Location: https://10.0.5.3/a\n' in out, out


# ---- SLAAC ------------------------------------------------------------------

# A router advertisement for PREFIX/64 (on-link, autonomous) from fe80::1,
# which the namespace's tap takes as its own; prints "sent".
RA = r'''
import sys, logging
logging.getLogger('scapy.runtime').setLevel(logging.ERROR)
from scapy.all import (Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptSrcLLAddr, get_if_hwaddr, sendp)
mac = get_if_hwaddr('tap10')
ra = (Ether(src=mac, dst='33:33:00:00:00:01') / IPv6(src='fe80::1', dst='ff02::1', hlim=255) /
      ICMPv6ND_RA(routerlifetime=1800) /
      ICMPv6NDOptPrefixInfo(prefix=sys.argv[1], prefixlen=64, L=1, A=1,
                            validlifetime=86400, preferredlifetime=14400) /
      ICMPv6NDOptSrcLLAddr(lladdr=mac))
sendp(ra, iface='tap10', count=3, inter=0.3, verbose=False)
print('sent')
'''


def test_slaac():
    """ip6=slaac: the guest takes the advertised prefix and its interface
    identifier (the same as its link-local one), and serves on that
    address; a default router comes from the advertisement."""
    need_tool('curl', 'curl')
    with TapGuest('httpd', '--kernel-args', 'ip6=slaac',
                  ready=(HTTPD_READY, READY_LL)) as g:
        out = g.guest.output
        assert re.search(r'^net: ip6 slaac, fe80::5054:ff:fe12:3456 \(link-local\)$', out,
                         re.M), out
        g.run('ip', '-6', 'addr', 'add', 'fe80::1/64', 'dev', 'tap10', 'nodad')
        g.run('ip', '-6', 'addr', 'add', 'fd00:6::1/64', 'dev', 'tap10', 'nodad')
        assert g.python(RA, 'fd00:6::').strip() == 'sent'
        g.guest.wait_for(re.compile(r'^net: ip6 fd00:6::5054:ff:fe12:3456/64 ready \(slaac\)$',
                                    re.M), 20)
        ok, out = ping6(g, 'fd00:6::5054:ff:fe12:3456')
        assert ok, out
        code, body = curl(g, 'http://[fd00:6::5054:ff:fe12:3456]/_limpet/stats', '-6')
        assert code == 200
        net = json.loads(body)['net']
        assert net['ip6_mode'] == 'slaac' and net['gateway6'] == '', net
        assert {'address': 'fd00:6::5054:ff:fe12:3456', 'prefix': 64, 'ready': True} \
            in net['ip6'], net
        # The static default is not there, and IPv4 is as before.
        assert all(a['address'] != GUEST_IP6 for a in net['ip6']), net
        code, _ = curl(g, 'http://%s/' % GUEST_IP)
        assert code == 200
        assert not TROUBLE.search(g.guest.output), g.guest.output


def test_ip6_off():
    """ip6=off: no IPv6 at all (no link-local address, no answer), IPv4
    as before."""
    with TapGuest('echo', '--kernel-args', 'ip6=off', ready=(LISTENING,)) as g:
        out = g.guest.output
        assert re.search(r'^net: ip6 off$', out, re.M), out
        assert re.search(r'^echo: listening on 10\.0\.5\.3 port 7', out, re.M), out
        ok, out = ping6(g, GUEST_LL + '%tap10', count=2)
        assert not ok, out
        assert g.python(ECHO_CLIENT, GUEST_IP, str(ECHO_PORT), '65536').strip() == 'ok'


def test_static_address_at_boot():
    """ip6= and gateway6= at boot replace the build's; an address of
    another prefix than the host's is reached through the gateway."""
    with TapGuest('echo', '--kernel-args', 'ip6=fd00:5::77/120 gateway6=fd00:5::1',
                  ready=(LISTENING, re.compile(r'^net: ip6 fd00:5::77/120 ready$', re.M))) as g:
        ok, out = ping6(g, 'fd00:5::77')
        assert ok, out
        ok, out = ping6(g, GUEST_IP6, count=2)
        assert not ok, out
        code = r'''
import socket
s = socket.create_connection(('fd00:5::77', 7), timeout=10)
s.sendall(b'x' * 100000)
s.shutdown(socket.SHUT_WR)
got = s.makefile('rb').read()
assert got == b'x' * 100000, len(got)
print('ok')
'''
        assert g.python(code).strip() == 'ok'


# ---- bad input --------------------------------------------------------------

@pytest.mark.parametrize('args,why', [
    ('ip6=fd00::1', 'expected an IPv6 address and prefix length'),
    ('ip6=fd00::1/129', 'expected an IPv6 address and prefix length'),
    ('ip6=fd00::1/0', 'expected an IPv6 address and prefix length'),
    ('ip6=fd00:::1/64', 'expected an IPv6 address and prefix length'),
    ('ip6=10.0.5.3/24', 'expected an IPv6 address and prefix length'),
    ('ip6=SLAAC', 'expected an IPv6 address and prefix length'),
    ('ip6=ff02::1/64', 'a multicast address'),
    ('ip6=::1/128', 'not a usable host address'),
    ('ip6=fe80::1/64', 'a link-local address'),
    ('ip6=::ffff:10.0.5.3/96', 'an IPv4-mapped address'),
    ('gateway6=fd00::g', 'not an IPv6 address'),
    ('gateway6=ff02::2', 'a multicast address'),
    ('gateway6=::', 'not a usable host address'),
])
def test_bad_ip6_arguments(args, why):
    """A malformed ip6= or gateway6= stops the guest with status 2 and says
    which and why, before any networking."""
    r = boot('echo', kernel_args=args, timeout=30)
    assert r.status == 2, r
    key, _, value = args.partition('=')
    assert re.search(r'^net: error: %s=%s: .*%s' % (re.escape(key), re.escape(value),
                                                    re.escape(why)), r.output, re.M), r


@pytest.mark.parametrize('opt,why', [
    ('ip6=fd00::1', 'no prefix length'),
    ('ip6=fd00::1/129', 'the prefix length is not 1-128'),
    ('ip6=fd00::1/064', 'the prefix length is not 1-128'),
    ('ip6=fe80::1/64', 'a link-local address'),
    ('ip6=ff02::1/64', 'not a usable host address'),
    ('ip6=fd00::g/64', 'not an IPv6 address'),
    ('gateway6=ff02::1', 'not a usable host address'),
    ('gateway6=fd00::1/64', 'not an IPv6 address'),
])
def test_bad_ip6_build_options(opt, why):
    p = subprocess.run(['scons', '-n', '-Q', 'service=echo', opt], cwd=TOP,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0, p.stdout
    assert 'Invalid value for option %s' % opt.partition('=')[0] in p.stderr + p.stdout
    assert why in p.stderr + p.stdout, p.stderr + p.stdout


def test_ip6_build_options_taken():
    p = subprocess.run(['scons', '-n', '-Q', 'service=echo', 'ip6=slaac', 'gateway6='],
                       cwd=TOP, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


# ---- QEMU's user network ----------------------------------------------------

def test_user_net_slaac():
    """./limpet run's user network: SLAAC from QEMU's own router advertises
    fec0::/64."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    r = subprocess.run([str(TOP / 'limpet'), 'run', 'echo', '--no-build', '--timeout', '8',
                        '--port', '%d:7' % port],
                       cwd=TOP, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert re.search(r'^net: ip6 fec0::5054:ff:fe12:3456/64 ready \(slaac\)$', out, re.M), out
    assert not TROUBLE.search(out), out
