#!/usr/bin/env bash
# Create (or remove) the tap device a Limpet guest attaches to with
# `./limpet run SERVICE --net tap`: tap10, host side 10.0.5.1/24 with its
# broadcast address and fd00:5::1/64, link up, proxy ARP on.  The guest's
# compiled-in addresses are 10.0.5.3 with gateway 10.0.5.1, and
# fd00:5::3/64 with gateway fd00:5::1.
#
# With --netns NAME everything happens inside that network namespace
# (created when missing, with its lo up), so that traffic to the guest
# never touches the root namespace: that is how the tests use it.
#
# Idempotent: a second run with the same options changes nothing and
# succeeds.  Needs root (CAP_NET_ADMIN).
set -euo pipefail

prog=$(basename "$0")

usage() {
	cat <<EOF
Usage: $prog [--name IF] [--address A/N] [--address6 A/N|none] [--netns NAME] [--user U]
       $prog --down [--name IF] [--netns NAME]

Sets up a tap device for a Limpet guest: creates it (owned by U, so that
QEMU can open it without root), gives the host side the address A/N and
its broadcast address, and an IPv6 address, sets the link up and turns
proxy ARP on.  Run it again and it changes nothing.

Options:
  --name IF       the tap device (default tap10)
  --address A/N   the host's address on it (default 10.0.5.1/24; the
                  guest's default is 10.0.5.3, gateway 10.0.5.1)
  --address6 A/N  the host's IPv6 address on it (default fd00:5::1/64, a
                  unique local address; the guest's default is
                  fd00:5::3/64, gateway fd00:5::1), or none
  --netns NAME    work inside network namespace NAME, creating it if it
                  does not exist (and setting its lo up)
  --user U        the tap's owner (default: the invoking user, \$SUDO_USER
                  under sudo)
  --down          remove the tap device; with --netns, then delete the
                  namespace too if nothing is left in it (no interface
                  but lo, no process), and say so either way
  -h, --help      this text

Examples:
  sudo $prog                            # tap10 in the root namespace
  sudo $prog --netns limpet             # tap10 inside namespace 'limpet'
  sudo ip netns exec limpet ./limpet run echo --net tap
  sudo $prog --down --netns limpet
EOF
}

die() { echo "$prog: $*" >&2; exit 1; }
usage_error() { echo "$prog: $*" >&2; echo "Try '$prog -h'." >&2; exit 2; }
say() { echo "$prog: $*"; }

args=("$@")
name=tap10 address=10.0.5.1/24 address6=fd00:5::1/64 netns='' user='' down=0
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help)	usage; exit 0 ;;
	--name)		name=${2-}; shift 2 || usage_error "--name needs a value" ;;
	--name=*)	name=${1#*=}; shift ;;
	--address)	address=${2-}; shift 2 || usage_error "--address needs a value" ;;
	--address=*)	address=${1#*=}; shift ;;
	--address6)	address6=${2-}; shift 2 || usage_error "--address6 needs a value" ;;
	--address6=*)	address6=${1#*=}; shift ;;
	--netns)	netns=${2-}; shift 2 || usage_error "--netns needs a value" ;;
	--netns=*)	netns=${1#*=}; shift ;;
	--user)		user=${2-}; shift 2 || usage_error "--user needs a value" ;;
	--user=*)	user=${1#*=}; shift ;;
	--down)		down=1; shift ;;
	*)		usage_error "unknown argument: $1" ;;
	esac
done

# Interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', blank or ':'.
[[ "$name" =~ ^[A-Za-z0-9_.-]{1,15}$ ]] ||
	usage_error "--name: '$name' is not a valid interface name (1-15 of A-Z a-z 0-9 _ . -)"
if [ -n "$netns" ]; then
	[[ "$netns" =~ ^[A-Za-z0-9_.-]+$ ]] && [ "$netns" != . ] && [ "$netns" != .. ] ||
		usage_error "--netns: '$netns' is not a valid namespace name"
fi

valid_ipv4() {
	local IFS=. o
	local -a parts
	[[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
	read -ra parts <<<"$1"
	for o in "${parts[@]}"; do [ "$((10#$o))" -le 255 ] || return 1; done
}
addr=${address%/*} plen=${address#*/}
[ "$address" != "$addr" ] && valid_ipv4 "$addr" && [[ "$plen" =~ ^[0-9]{1,2}$ ]] &&
	[ "$plen" -ge 1 ] && [ "$plen" -le 30 ] ||
	usage_error "--address: '$address' is not an IPv4 address with a prefix length 1-30, like 10.0.5.1/24"

# IPv6: hex digits, colons and perhaps a dotted quad, then /1-128 (ip(8)
# rejects what only looks right).
if [ "$address6" != none ]; then
	addr6=${address6%/*} plen6=${address6#*/}
	[ "$address6" != "$addr6" ] && [[ "$addr6" =~ ^[0-9A-Fa-f:.]+$ ]] && [[ "$addr6" == *:* ]] &&
		[[ "$plen6" =~ ^[0-9]{1,3}$ ]] && [ "$plen6" -ge 1 ] && [ "$plen6" -le 128 ] ||
		usage_error "--address6: '$address6' is not an IPv6 address with a prefix length 1-128, like fd00:5::1/64, or none"
fi

# The broadcast address: the host part all ones.
broadcast() {
	local IFS=. a b c d
	read -r a b c d <<<"$1"
	local ip=$(((a << 24) | (b << 16) | (c << 8) | d))
	local mask=$(((0xffffffff << (32 - $2)) & 0xffffffff))
	local bc=$(((ip & mask) | (~mask & 0xffffffff)))
	echo "$((bc >> 24 & 255)).$((bc >> 16 & 255)).$((bc >> 8 & 255)).$((bc & 255))"
}
brd=$(broadcast "$addr" "$plen")

if [ "$(id -u)" -ne 0 ]; then
	die "must run as root (it creates network devices${netns:+ and namespaces}); try: sudo $0${args[*]+ ${args[*]}}"
fi
command -v ip >/dev/null || die "the 'ip' command is missing (Debian package iproute2)"

if [ -z "$user" ]; then
	user=${SUDO_USER:-$(id -un)}
fi
if [ $down = 0 ]; then
	id -u "$user" >/dev/null 2>&1 || usage_error "--user: no such user '$user'"
fi

# ip_ns ARGS: ip(8) inside the namespace when there is one.
ip_ns() { if [ -n "$netns" ]; then ip -n "$netns" "$@"; else ip "$@"; fi; }
# in_ns CMD: run a command inside the namespace when there is one.
in_ns() { if [ -n "$netns" ]; then ip netns exec "$netns" "$@"; else "$@"; fi; }
netns_exists() { [ -n "$netns" ] && ip netns list | awk '{print $1}' | grep -qxF "$netns"; }
where=${netns:+ in namespace $netns}

# ---- --down -------------------------------------------------------------------
if [ $down = 1 ]; then
	if [ -n "$netns" ] && ! netns_exists; then
		say "namespace $netns does not exist: nothing to do"
		exit 0
	fi
	if ip_ns link show dev "$name" >/dev/null 2>&1; then
		ip_ns link del dev "$name"
		say "removed $name$where"
	else
		say "no $name$where: nothing to remove"
	fi
	if [ -n "$netns" ]; then
		others=$(ip -n "$netns" -o link show | awk -F': ' '$2 != "lo" {print $2}' | sed 's/@.*//' | paste -sd' ' -)
		pids=$(ip netns pids "$netns" | paste -sd' ' -)
		if [ -n "$others" ]; then
			say "kept namespace $netns: it still holds $others"
		elif [ -n "$pids" ]; then
			say "kept namespace $netns: processes still run in it ($pids)"
		else
			ip netns del "$netns"
			say "deleted namespace $netns"
		fi
	fi
	exit 0
fi

# ---- up -----------------------------------------------------------------------
changed=0
if [ -n "$netns" ] && ! netns_exists; then
	ip netns add "$netns"
	say "created namespace $netns"
	changed=1
fi
if [ -n "$netns" ] && ! ip -n "$netns" link show dev lo | grep -q '[<,]UP[,>]'; then
	ip -n "$netns" link set dev lo up
	changed=1
fi

uid=$(id -u "$user")
if ip_ns link show dev "$name" >/dev/null 2>&1; then
	# It exists: it must be a tap, and it had better be ours.
	info=$(ip_ns -d link show dev "$name")
	grep -q 'tun type tap' <<<"$info" ||
		die "$name exists$where but is not a tap device: $(head -1 <<<"$info")"
	# ip(8) names the owner, or gives its uid when it has no name.
	owner=$(sed -n 's/.*tun type tap.* user \([^ ]*\).*/\1/p' <<<"$info")
	if [ -n "$owner" ] && [ "$owner" != "$user" ] && [ "$owner" != "$uid" ]; then
		die "$name exists$where but belongs to $owner, not $user; remove it with: $0 --down --name $name${netns:+ --netns $netns}"
	fi
else
	ip_ns tuntap add dev "$name" mode tap user "$user"
	say "created tap $name$where, owned by $user"
	changed=1
fi

if ! ip_ns -4 -o addr show dev "$name" | grep -q " inet $addr/$plen "; then
	ip_ns addr add "$addr/$plen" broadcast "$brd" dev "$name"
	say "$name: address $addr/$plen broadcast $brd"
	changed=1
fi
if [ "$address6" != none ]; then
	# nodad: the address serves at once (the tap has no carrier until
	# QEMU opens it, which would hold duplicate address detection).
	if ! ip_ns -6 -o addr show dev "$name" | grep -qi " inet6 $addr6/$plen6 "; then
		ip_ns -6 addr replace "$addr6/$plen6" dev "$name" nodad ||
			usage_error "--address6: ip(8) refused '$address6'"
		say "$name: address $addr6/$plen6"
		changed=1
	fi
fi
if ! ip_ns link show dev "$name" | grep -q '[<,]UP[,>]'; then
	ip_ns link set dev "$name" up
	changed=1
fi
proxy=/proc/sys/net/ipv4/conf/$name/proxy_arp
if [ "$(in_ns cat "$proxy")" != 1 ]; then
	in_ns sh -c "echo 1 > $proxy"
	changed=1
fi

host="$addr/$plen${addr6:+ and $addr6/$plen6}"
if [ $changed = 1 ]; then
	say "ready: $name$where, host $host, up, proxy ARP on"
else
	say "already set up: $name$where, host $host, up, proxy ARP on (nothing changed)"
fi
