#!/usr/bin/env bash
# Install Limpet's toolchain and test tools from Debian, and fetch the
# sources of its dependencies (newlib, lwIP, mbedTLS, fiat-crypto) into deps/, which git
# ignores.  Idempotent: a second run installs and fetches nothing.
# Root is needed only when a package is missing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/deps"

# Build toolchain, hypervisor and the tools the tests drive the guest with.
packages=(
	gcc binutils make scons git
	qemu-system-x86 qemu-utils
	newlib-source dpkg-dev
	libcmocka-dev pkg-config
	python3 python3-pytest
	curl socat iproute2 nftables iputils-ping
	# httpd's tests: real HTTP clients and load generators (ab is in
	# apache2-utils), a slow-client attacker, and clang with its runtime
	# (libFuzzer, ASan, UBSan) for the HTTP parser's fuzz target.
	wget apache2-utils wrk slowhttptest
	clang libclang-rt-14-dev
	# TLS (tls=1): the build makes the development certificate with openssl;
	# the HTTPS tests drive httpd with a second TLS stack (gnutls-cli) and
	# check its protocols and suites with sslscan.
	openssl gnutls-bin sslscan
	# ... and grade it as an outside auditor would (tests/test_https.py).
	testssl.sh
	# promtool checks /_limpet/metrics as Prometheus would scrape it
	# (tests/test_metrics.py); the server it comes with is not started.
	prometheus
	# ./limpet deploy --libvirt (tests/test_deploy.py starts the daemons
	# itself where there is no systemd).
	libvirt-daemon-system libvirt-clients
	# ./limpet image: GRUB for BIOS and UEFI (the -bin packages only: no
	# boot loader is installed on this machine), mtools for the FAT
	# partition, xorriso for ISOs; OVMF is the UEFI firmware the tests
	# boot them with (tests/test_image.py).
	grub-common grub-pc-bin grub-efi-amd64-bin mtools xorriso ovmf
	# The constant-time check of our P-256 and X25519 code
	# (tests/test_ecc_ct.py) runs under valgrind's memcheck; the
	# differential one (tests/test_ecc_differential.py) compares it with
	# OpenSSL through Python's cryptography and with NIST's vectors.
	valgrind python3-cryptography python3-cryptography-vectors
	# tests/test_hostile.py: malformed and hostile Ethernet/IP/TCP/UDP/ICMP
	# frames, built and sent with scapy inside the test's namespace.
	python3-scapy
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
		|| missing+=("$p")
done

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else echo "setup: need root to run: $*" >&2; exit 1
	fi
}

# apt-get source needs deb-src entries; add them beside the system's
# deb entries when there are none.
have_deb_src() {
	grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/
}
need_update=0
if ! have_deb_src; then
	echo "setup: adding deb-src entries for apt-get source"
	tmp=$(mktemp)
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		sed -E 's/^Types:.*/Types: deb-src/' "$f" >>"$tmp"
		echo >>"$tmp"
	done
	if [ -f /etc/apt/sources.list ]; then
		sed -nE 's/^deb (.*)/deb-src \1/p' /etc/apt/sources.list >>"$tmp.list"
		[ -s "$tmp.list" ] && as_root install -m 644 "$tmp.list" /etc/apt/sources.list.d/limpet-src.list
	fi
	[ -s "$tmp" ] && as_root install -m 644 "$tmp" /etc/apt/sources.list.d/limpet-src.sources
	rm -f "$tmp" "$tmp.list"
	need_update=1
fi

# mbedTLS 3.6 LTS (TLS 1.3) comes from Debian's next release, trixie, as
# a source package only: a deb-src entry for trixie and no deb entry, so
# no installed binary is ever upgraded from it.
trixie_src=/etc/apt/sources.list.d/limpet-trixie-src.sources
if [ ! -f "$trixie_src" ]; then
	echo "setup: adding a deb-src entry for trixie (source packages only)"
	tmp=$(mktemp)
	cat >"$tmp" <<-'END'
	# Limpet (scripts/setup.sh): source packages from Debian 13 for
	# apt-get source mbedtls/trixie.  Sources only: nothing is installed
	# from here.
	Types: deb-src
	URIs: http://deb.debian.org/debian
	Suites: trixie
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	END
	as_root install -m 644 "$tmp" "$trixie_src"
	rm -f "$tmp"
	need_update=1
fi

if [ ${#missing[@]} -gt 0 ] || [ $need_update -eq 1 ]; then
	as_root apt-get update -q
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

mkdir -p "$deps"

# newlib: Debian ships the upstream tarball in the binary package.
if [ ! -d "$deps/newlib" ]; then
	tarball=$(ls /usr/src/newlib/newlib-*.tar.* 2>/dev/null | head -1)
	[ -n "$tarball" ] || { echo "setup: no newlib tarball under /usr/src/newlib" >&2; exit 1; }
	echo "setup: unpacking $(basename "$tarball")"
	rm -rf "$deps/newlib.tmp" && mkdir "$deps/newlib.tmp"
	tar -xf "$tarball" -C "$deps/newlib.tmp" --strip-components=1
	mv "$deps/newlib.tmp" "$deps/newlib"
fi

# lwIP and mbedTLS: Debian source packages, unpacked with their patches,
# each from the release named (apt-get source would otherwise take the
# newest version any deb-src entry offers).  A deps/ folder that holds
# another version (from an older checkout) is fetched again.
#   lwIP 2.1.3 from bookworm: net/port/ reaches into its TCP internals.
#   mbedTLS 3.6 LTS from trixie: TLS 1.3 (2.28, bookworm's, has none and
#   is out of upstream support).
fetch_source() {
	local pkg=$1 release=$2 probe=$3 want=$4
	if [ -d "$deps/$pkg" ]; then
		grep -qF "$want" "$deps/$pkg/$probe" 2>/dev/null && return 0
		echo "setup: deps/$pkg is not version $want: fetching it again"
		rm -rf "$deps/$pkg"
	fi
	echo "setup: fetching Debian source package $pkg/$release"
	rm -rf "$deps/$pkg.tmp" && mkdir "$deps/$pkg.tmp"
	(cd "$deps/$pkg.tmp" && apt-get source -q -o APT::Sandbox::User=root "$pkg/$release" >/dev/null)
	local dir
	dir=$(find "$deps/$pkg.tmp" -mindepth 1 -maxdepth 1 -type d | head -1)
	[ -n "$dir" ] || { echo "setup: apt-get source $pkg/$release unpacked nothing" >&2; exit 1; }
	grep -qF "$want" "$dir/$probe" ||
		{ echo "setup: $pkg/$release is not version $want ($probe)" >&2; exit 1; }
	mv "$dir" "$deps/$pkg"
	rm -rf "$deps/$pkg.tmp"
}
fetch_source lwip bookworm src/include/lwip/init.h '#define LWIP_VERSION_REVISION   3'
fetch_source mbedtls trixie include/mbedtls/build_info.h '#define MBEDTLS_VERSION_STRING         "3.6.'

# fiat-crypto's formally verified field arithmetic for P-256 and
# Curve25519 (net/tls/p256.c, net/tls/x25519.c): generated C headers that
# BoringSSL carries, from its Debian source package.  Only the two headers
# and their licence are kept; the rest of BoringSSL is not used.  From
# bookworm (13.0.0+r24), pinned like lwIP: trixie's version is newer.
fetch_fiat() {
	local pkg=android-platform-external-boringssl dir=src/third_party/fiat
	[ -f "$deps/fiat/p256_64.h" ] && [ -f "$deps/fiat/curve25519_64.h" ] && return 0
	echo "setup: fetching fiat-crypto's headers from Debian source package $pkg"
	rm -rf "$deps/fiat.tmp" && mkdir "$deps/fiat.tmp"
	(cd "$deps/fiat.tmp" && apt-get source -q --download-only -o APT::Sandbox::User=root "$pkg/bookworm" >/dev/null)
	local orig
	orig=$(ls "$deps"/fiat.tmp/*.orig.tar.* 2>/dev/null | head -1)
	[ -n "$orig" ] || { echo "setup: apt-get source $pkg downloaded no tarball" >&2; exit 1; }
	tar -xf "$orig" -C "$deps/fiat.tmp" --wildcards "*/$dir/p256_64.h" \
		"*/$dir/curve25519_64.h" "*/$dir/LICENSE" "*/$dir/METADATA"
	mkdir -p "$deps/fiat.tmp/out"
	for f in p256_64.h curve25519_64.h LICENSE METADATA; do
		mv "$deps"/fiat.tmp/*/$dir/$f "$deps/fiat.tmp/out/" ||
			{ echo "setup: $pkg has no $dir/$f" >&2; exit 1; }
	done
	rm -rf "$deps/fiat"
	mv "$deps/fiat.tmp/out" "$deps/fiat"
	rm -rf "$deps/fiat.tmp"
}
fetch_fiat

echo "setup: ready (dependencies in $deps)"
