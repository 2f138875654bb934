"""Services: where they live, and what each one's service.conf says.

A service is a folder of C sources with a main(), named after the folder:
services/NAME/ for the services Limpet ships, tests/guest/NAME/ for the
in-guest tests, which are services too.

service.conf, beside the sources and optional, holds "key = value" lines
("#" starts a comment).  What it may say:

    net = yes|no         link lwIP and the network driver (default no)
    tls = yes|no         always build with TLS, as tls=1 does (needs
                         net = yes; default no)

and how ./limpet run boots the service unless told otherwise:

    nic = user|tap|none  its network (--net); default user with net = yes,
                         else none
    ports = H:G ...      the forwards from 127.0.0.1:H to the guest's port
                         G (TCP and UDP) on the user network (--port
                         replaces them); default none
    tls_ports = H:G ...  forwards added in front of those when built with
                         --tls (--port replaces them too)
    memory = SIZE        guest RAM, as QEMU's -m (-m); default 64M
    tls_port_arg = --OPT an app argument that --tls on the user network
                         gives the host port forwarded to the guest's
                         HTTPS port 443, before the user's own (httpd:
                         --https-redirect-port, so that its redirects to
                         HTTPS name the port clients reach); default none

./limpet deploy forwards host ports 10000 above the same (18080:80 for
httpd's 8080:80), one more for each further instance.  An unknown key or a
bad value stops whoever reads the file, naming the file and the line.
"""

import os
import re

from .paths import TOP

# Where each kind of service lives, in the order they are listed.
SERVICE_DIRS = ('services', os.path.join('tests', 'guest'))

DEFAULT_MEMORY = '64M'
NICS = ('user', 'tap', 'none')
YES_NO = ('yes', 'no')
KEYS = ('net', 'tls', 'nic', 'ports', 'tls_ports', 'memory', 'tls_port_arg')

# QEMU's -m: a number of MiB, or with a suffix.
MEMORY = re.compile(r'^[1-9][0-9]*[KMGTkmgt]?$')
MEMORY_KIB = {'k': 1, 'm': 1 << 10, 'g': 1 << 20, 't': 1 << 30}

# A long option of the service's own.
LONG_OPTION = re.compile(r'^--[a-z0-9][a-z0-9-]*$')


class ConfError(ValueError):
    """A service.conf that cannot be used; the message names the file and
    line."""


def services():
    """Every service's name mapped to its folder, relative to the top."""
    found = {}
    for parent in SERVICE_DIRS:
        base = TOP / parent
        if not base.is_dir():
            continue
        for name in sorted(os.listdir(base)):
            path = base / name
            if path.is_dir() and any(f.endswith('.c') for f in os.listdir(path)):
                found[name] = os.path.join(parent, name)
    return found


def split_services(value):
    """'a,b' -> ['a', 'b']; 'all' -> every service."""
    if value == 'all':
        return list(services())
    return [s for s in value.split(',') if s]


def parse_port(text):
    """'HOST:GUEST' -> (host, guest), both 1..65535; None if it is not."""
    m = re.match(r'^([0-9]{1,5}):([0-9]{1,5})$', text)
    if not m:
        return None
    host, guest = int(m.group(1)), int(m.group(2))
    if not (1 <= host <= 65535 and 1 <= guest <= 65535):
        return None
    return host, guest


class Conf:
    """One service's service.conf, parsed (defaults where it is silent)."""

    def __init__(self, name=None, folder=None):
        self.name, self.folder = name, folder
        self.net = False
        self.tls = False
        self.nic = None
        self.ports = []
        self.tls_ports = []
        self.memory = DEFAULT_MEMORY
        self.tls_port_arg = None

    def default_nic(self):
        return self.nic or ('user' if self.net else 'none')

    def memory_mib(self):
        """memory as a whole number of MiB (at least 1), for those that
        take no suffix (libvirt's <memory unit='MiB'>)."""
        return memory_mib(self.memory)


def memory_mib(size):
    """QEMU's -m SIZE (MEMORY) in MiB, rounded up."""
    n, unit = (size[:-1], size[-1].lower()) if size[-1].isalpha() else (size, 'm')
    return max(1, -(-int(n) * MEMORY_KIB[unit] // 1024))


def _value(key, value, where):
    if key in ('net', 'tls'):
        if value not in YES_NO:
            raise ConfError('%s: %s = %s: valid values are %s'
                            % (where, key, value, ', '.join(YES_NO)))
        return value == 'yes'
    if key == 'nic':
        if value not in NICS:
            raise ConfError('%s: nic = %s: valid values are %s' % (where, value, ', '.join(NICS)))
        return value
    if key == 'memory':
        if not MEMORY.match(value):
            raise ConfError('%s: memory = %s: give a size as QEMU\'s -m takes it, e.g. 64M'
                            % (where, value))
        return value
    if key == 'tls_port_arg':
        if not LONG_OPTION.match(value):
            raise ConfError('%s: tls_port_arg = %s: give one long option, e.g. '
                            '--https-redirect-port' % (where, value))
        return value
    ports = []
    for word in value.replace(',', ' ').split():
        p = parse_port(word)
        if p is None:
            raise ConfError('%s: %s = %s: expected HOST:GUEST pairs with ports 1-65535, '
                            'separated by spaces' % (where, key, value))
        ports.append(p)
    return ports


def read_conf(folder, name=None):
    """The service.conf in folder (relative to the top) as a Conf; the
    defaults when there is none.  Raises ConfError."""
    conf = Conf(name, folder)
    path = os.path.join(TOP, folder, 'service.conf')
    if not os.path.exists(path):
        return conf
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            key, eq, value = (x.strip() for x in line.partition('='))
            where = '%s:%d' % (path, n)
            if not eq or key not in KEYS:
                raise ConfError('%s: expected "key = value" with key one of: %s'
                                % (where, ', '.join(KEYS)))
            setattr(conf, key, _value(key, value, where))
    if conf.tls and not conf.net:
        raise ConfError('%s: tls = yes needs net = yes (TLS runs over lwIP)' % path)
    if conf.tls_port_arg and not conf.tls_ports:
        raise ConfError('%s: tls_port_arg needs tls_ports (the forward whose host port '
                        'it names)' % path)
    if conf.nic not in (None, 'none') and not conf.net:
        raise ConfError('%s: nic = %s needs net = yes (the driver is linked only then)'
                        % (path, conf.nic))
    return conf


def conf_of(name):
    """The Conf of the service called name; the defaults for a name that
    is no service (the build then says so)."""
    folder = services().get(name)
    return read_conf(folder, name) if folder else Conf(name)
