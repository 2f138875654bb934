#!/usr/bin/env bash
# Build the Linux VM that ./limpet bench compares Limpet with, from Debian
# packages only, into build/baseline/ (cached: a second run with the same
# inputs does nothing):
#
#   vmlinuz          Debian's cloud kernel (linux-image-cloud-amd64)
#   initramfs.cpio   busybox-static as init; the virtio modules from the
#                    kernel package, loaded with insmod in dependency order;
#                    nginx (Debian's binary and the libraries ldd lists)
#                    serving the same site as httpd, over HTTP on 80 and
#                    HTTPS on 443 with the certificate and key httpd's
#                    tls=1 image embeds (--cert, --key; default the
#                    development pair, build/tls/dev-{cert,key}.pem) and
#                    the suites net/tls/limpet_mbedtls_config.h allows;
#                    netbench-server
#
# The VM boots with
#   -kernel vmlinuz -initrd initramfs.cpio
#   -append "console=ttyS0 ip=GUEST::GATEWAY:MASK [ip6=ADDR6/PREFIX
#            [gateway6=GATEWAY6]] tsc_early_khz=KHZ ..."
# Its init reads ip= itself (the NIC driver is a module, too late for the
# kernel's own ip= autoconfiguration), and ip6= and gateway6= as Limpet
# reads them (static only), brings eth0 up, starts nginx and
# netbench-server, and prints "baseline: ready".
#
# Usage: netbench/baseline/build.sh --www DIR [--server FILE] [--cert PEM --key PEM]
#        [--out DIR]
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
prog=netbench/baseline/build.sh
out=$top/build/baseline
www='' server=$top/build/netbench/netbench-server
tls_cert=$top/build/tls/dev-cert.pem tls_key=$top/build/tls/dev-key.pem

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}
die() { echo "baseline: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help)	usage; exit 0 ;;
	--www)		www=${2-}; shift 2 || die "--www needs a folder" ;;
	--server)	server=${2-}; shift 2 || die "--server needs a file" ;;
	--out)		out=${2-}; shift 2 || die "--out needs a folder" ;;
	--cert)		tls_cert=${2-}; shift 2 || die "--cert needs a file" ;;
	--key)		tls_key=${2-}; shift 2 || die "--key needs a file" ;;
	*)		echo "$prog: unknown argument $1 (try -h)" >&2; exit 2 ;;
	esac
done
[ -n "$www" ] || die "--www DIR is required (the site nginx serves)"
[ -d "$www" ] || die "--www $www is not a folder"
[ -x "$server" ] || die "no $server: build it with 'scons netbench'"
for f in "$tls_cert" "$tls_key"; do
	[ -f "$f" ] || die "no $f: 'scons service=httpd tls=1' makes the development pair"
done
for t in apt-get apt-cache dpkg-deb cpio ldd; do
	command -v "$t" >/dev/null || die "$t is missing"
done

# The kernel package the metapackage points at, e.g. linux-image-6.1.0-56-cloud-amd64.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
[ -n "$kpkg" ] || die "apt-cache knows no linux-image-cloud-amd64 (run apt-get update?)"
# nginx-light is a transitional package on Debian 12; the binary is in nginx.
packages=("$kpkg" busybox-static nginx)

# ---- the cache key: package versions, the site, the server, this script ------
versions=$(for p in "${packages[@]}"; do apt-cache policy "$p" | sed -n 's/^ *Candidate: //p'; done)
key=$( {
	echo "$versions"
	sha256sum "$0" "$server" "$tls_cert" "$tls_key"
	(cd "$www" && find . -type f -print0 | sort -z | xargs -0r sha256sum)
} | sha256sum | cut -c1-16)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$key" ] &&
	[ -f "$out/vmlinuz" ] && [ -f "$out/initramfs.cpio" ]; then
	echo "baseline: up to date in ${out#"$top"/}"
	exit 0
fi

# ---- the packages: downloaded once into build/baseline/debs ---------------------
mkdir -p "$out/debs"
for p in "${packages[@]}"; do
	if ! compgen -G "$out/debs/${p}_*.deb" >/dev/null; then
		echo "baseline: downloading $p"
		(cd "$out/debs" && apt-get download -q "$p" >"$out/debs/apt.log" 2>&1) ||
			die "apt-get download $p failed"
	fi
done
x=$out/extract
rm -rf "$x" && mkdir -p "$x"
for p in "${packages[@]}"; do
	deb=$(ls -t "$out/debs/${p}"_*.deb | head -1)
	dpkg-deb -x "$deb" "$x/$p"
done

# ---- the kernel ---------------------------------------------------------------
vmlinuz=$(ls "$x/$kpkg"/boot/vmlinuz-* | head -1)
kver=${vmlinuz##*/vmlinuz-}
cp "$vmlinuz" "$out/vmlinuz"

# ---- the initramfs ----------------------------------------------------------
root=$out/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,lib/modules,www,var/log/nginx,var/lib/nginx}
cp "$x/busybox-static/bin/busybox" "$root/bin/busybox"
for a in sh mount ifconfig route ip insmod cat sleep echo sed; do
	ln -s busybox "$root/bin/$a"
done

# virtio_net on PCI (pc, q35) and on virtio-mmio (microvm), and what they
# depend on (each module's .modinfo "depends=" line: the package has no
# modules.dep, which depmod makes when it is installed), listed in
# /lib/modules/order dependencies first, for init's insmod.
mdir=$x/$kpkg/lib/modules/$kver/kernel
order=()
add_module() {
	local name=$1 path d
	for d in "${order[@]+"${order[@]}"}"; do [ "$d" = "$name" ] && return 0; done
	path=$(find "$mdir" -name "$name.ko" | head -1)
	[ -n "$path" ] || die "the kernel package has no module $name"
	for d in $(tr '\0' '\n' <"$path" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$d"
	done
	cp "$path" "$root/lib/modules/$name.ko"
	order+=("$name")
}
for m in virtio_pci virtio_mmio virtio_net; do add_module "$m"; done
printf '%s\n' "${order[@]}" >"$root/lib/modules/order"

# nginx and the libraries ldd lists, at their paths.
cp "$x/nginx/usr/sbin/nginx" "$root/bin/nginx"
libs=$(ldd "$root/bin/nginx" | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }')
for l in $libs; do
	[ -f "$l" ] || die "nginx needs $l, which ldd did not find"
	mkdir -p "$root$(dirname "$l")"
	cp -L "$l" "$root$l"
done
if ldd "$root/bin/nginx" | grep -q 'not found'; then
	die "nginx needs libraries this machine lacks: $(ldd "$root/bin/nginx" | grep 'not found')"
fi
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >"$root/etc/passwd"
echo 'nogroup:x:65534:' >"$root/etc/group"
cat >"$root/etc/nginx.conf" <<'EOF'
# The same site as httpd, configured for speed the way a careful user
# would: one worker (the VM has one CPU), keep-alive on, no access log,
# sendfile on; and for the bench's 10,000 concurrent connections: room
# for 16,384 in the worker, a file descriptor for each, and a listen
# backlog of 4,096 (the kernel's somaxconn) for wrk's burst of connection
# requests.
worker_processes 1;
worker_rlimit_nofile 40000;
daemon on;
error_log /var/log/nginx/error.log crit;
pid /run/nginx.pid;
events { worker_connections 16384; }
http {
	types {
		text/html html;
		text/css css;
		application/javascript js;
		image/svg+xml svg;
		application/octet-stream bin;
	}
	default_type application/octet-stream;
	access_log off;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_timeout 65;
	keepalive_requests 1000000;
	# HTTPS as httpd's tls=1 image offers it (net/tls/limpet_mbedtls_config.h):
	# the same certificate and key, TLS 1.3 and 1.2, the same six ECDHE AEAD
	# suites for TLS 1.2 in mbedTLS's order of preference (TLS 1.3's three
	# are OpenSSL's default, the same as mbedTLS's), X25519 then P-256,
	# session tickets on.
	ssl_protocols TLSv1.2 TLSv1.3;
	ssl_ciphers ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256;
	ssl_prefer_server_ciphers on;
	ssl_ecdh_curve X25519:prime256v1;
	ssl_session_tickets on;
	ssl_certificate /etc/tls/cert.pem;
	ssl_certificate_key /etc/tls/key.pem;
	server {
		listen 80 default_server backlog=4096;
		listen 443 ssl default_server;
		root /www;
		index index.html;
	}
}
EOF
mkdir -p "$root/etc/tls"
cp "$tls_cert" "$root/etc/tls/cert.pem"
cp "$tls_key" "$root/etc/tls/key.pem"
chmod 600 "$root/etc/tls/key.pem"
cp -R "$www"/. "$root/www/"
cp "$server" "$root/bin/netbench-server"

cat >"$root/init" <<'EOF'
#!/bin/sh
# The baseline VM's init: modules, network, nginx, netbench-server.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do
	insmod /lib/modules/$m.ko || echo "baseline: insmod $m failed"
done
# ip=ADDRESS::GATEWAY:MASK (the kernel's ip= syntax, first fields only);
# ip6=ADDRESS/PREFIX and gateway6=ADDRESS, as Limpet takes them.
spec6='' gw6=''
for a in $(cat /proc/cmdline); do
	case "$a" in
	ip=*) spec=${a#ip=} ;;
	ip6=*) spec6=${a#ip6=} ;;
	gateway6=*) gw6=${a#gateway6=} ;;
	esac
done
addr=$(echo "$spec" | sed 's/:.*//')
gw=$(echo "$spec" | sed 's/^[^:]*:[^:]*:\([^:]*\):.*/\1/')
mask=$(echo "$spec" | sed 's/^[^:]*:[^:]*:[^:]*:\([^:]*\).*/\1/')
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
ifconfig lo 127.0.0.1 up
ifconfig eth0 "$addr" netmask "$mask" up
route add default gw "$gw"
if [ -n "$spec6" ]; then
	# Without duplicate address detection, as the host's side of the tap
	# (scripts/tap-setup.sh, nodad): the address serves at once instead of
	# after a second of probing.
	echo 0 >/proc/sys/net/ipv6/conf/eth0/accept_dad
	ip -6 addr add "$spec6" dev eth0 || echo "baseline: ip6=$spec6 refused"
	[ -z "$gw6" ] || ip -6 route add default via "$gw6" dev eth0 ||
		echo "baseline: gateway6=$gw6 refused"
fi
/bin/netbench-server -q &
# nginx's master raises its workers' descriptors (worker_rlimit_nofile);
# its own limit is init's.
ulimit -n 40000
/bin/nginx -c /etc/nginx.conf
echo "baseline: ready"
while :; do sleep 3600; done
EOF
chmod 755 "$root/init"

# Uncompressed: under TCG, the kernel's gunzip would add seconds to the
# Linux VM's boot, which is not what the benchmark compares.
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet) >"$out/initramfs.cpio"
rm -rf "$x"
echo "$key" >"$out/stamp"
echo "baseline: built ${out#"$top"/}/vmlinuz ($kpkg) and initramfs.cpio" \
	"($(($(stat -c %s "$out/initramfs.cpio") / 1024)) KiB)"
