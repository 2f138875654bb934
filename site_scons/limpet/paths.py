"""Where the build puts things: one folder per variant, an image per
service in it.

    build/<platform>-<mode>-<log>[-tls]/<service>.elf
    build/<...>/httpd-www-<hash>.elf     httpd packed with another site
    build/loader/limpet-loader.elf       the multiboot loader (every variant)
"""

import hashlib
import os
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent.parent
BUILD = TOP / 'build'
LOADER = BUILD / 'loader' / 'limpet-loader.elf'

# The build's choices (scons platform=, mode=, log=), defaults first.
# q35 is a machine, not a build platform: it boots the pc image.
BUILD_PLATFORMS = ('pc', 'microvm')
MODES = ('debug', 'release')
# The compile-time log levels, most severe first; the index is the number
# the C code sees as LIMPET_LOG_LEVEL.
LOG_LEVELS = ('error', 'warn', 'info', 'debug', 'trace')
DEFAULT_LOG = 'info'

# httpd's own site; another folder gives another image (image_name()).
DEFAULT_WWW = 'services/httpd/www'
WWW_SERVICE = 'httpd'

# The strings scons' BoolVariable takes for true (tls=1, tls=yes, ...).
TRUE_WORDS = ('y', 'yes', 'true', 't', '1', 'on', 'all')


def truthy(value):
    return str(value).lower() in TRUE_WORDS


def build_platform(platform):
    """The platform an image is built for: q35 boots the pc image."""
    return 'microvm' if platform == 'microvm' else 'pc'


def variant(platform='pc', mode='debug', log=DEFAULT_LOG, tls=False):
    """The variant's folder name under build/.  TLS changes the services'
    own objects (LIMPET_TLS), so it is a variant of its own."""
    return '%s-%s-%s%s' % (build_platform(platform), mode, log, '-tls' if tls else '')


def www_path(value):
    """A www= value as an absolute path: ~ expanded, relative paths from
    the top of the tree."""
    return os.path.normpath(os.path.join(TOP, os.path.expanduser(str(value))))


def is_default_www(value):
    return os.path.realpath(www_path(value)) == os.path.realpath(www_path(DEFAULT_WWW))


def image_name(service, www=None):
    """The image's base name: the service's, or, for httpd packed with a
    site other than its default one, the service's plus the first 8 hex
    digits of the SHA-256 of the site's real path, so that images of
    different sites live side by side in one variant folder."""
    if service != WWW_SERVICE or www is None or is_default_www(www):
        return service
    real = os.path.realpath(www_path(www))
    return '%s-www-%s' % (service, hashlib.sha256(os.fsencode(real)).hexdigest()[:8])


def image_path(service, platform='pc', mode='debug', log=DEFAULT_LOG, tls=False, www=None):
    """The image scons writes for service (an absolute Path)."""
    return BUILD / variant(platform, mode, log, tls) / (image_name(service, www) + '.elf')


def relative(path):
    """path relative to the top when it is inside the tree (as ./limpet
    prints image paths), else as it is."""
    try:
        return str(Path(path).relative_to(TOP))
    except ValueError:
        return str(path)
