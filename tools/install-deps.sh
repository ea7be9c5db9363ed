#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages stunt needs to build, test and run its demo.
# Non-interactive and idempotent; returns at once when everything is present.
# Usage: tools/install-deps.sh [--check]   (--check: only report, exit 1 if missing)
set -euo pipefail

PKGS=(
	# build
	build-essential clang pkg-config
	libclang-rt-14-dev	# sanitizer and libFuzzer runtimes (only recommended by clang)
	libmnl-dev libnfnetlink-dev libnetfilter-queue-dev libpcap-dev libssl-dev
	libcap-ng-dev libminiupnpc-dev libnatpmp-dev
	libhiredis-dev	# stunt-server --redis (the cluster's client)
	# make deb: the Debian packages (debian/), lintian to check them by hand
	debhelper lintian
	# lab: namespaces, firewall, capture
	iproute2 nftables iptables conntrack tcpdump python3 procps psmisc openssl
	# independent NAT classifiers and reference servers
	stun-client stun-server coturn
	# the shared registry several stunt-servers meet in (t_server_redis.sh)
	redis-server
	# make bench: the ICE library it is compared with, and its plots
	libnice-dev gnuplot-nox
	# port-mapping gateway and clients
	miniupnpd-nftables miniupnpc natpmpc
	# VNC for the demo
	xvfb x11vnc vncsnapshot x11-utils
	# the known picture on that screen and its check (Debian's python3: tests/lab/vncpic.py)
	python3-tk python3-pil
)

missing=()
for p in "${PKGS[@]}"; do
	case "$p" in \#*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Packages such as coturn and miniupnpd ship services; the lab runs them
# itself inside namespaces, so nothing may start in the host's namespace.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
cleanup() { [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; return 0; }
trap cleanup EXIT

# miniupnpd asks whether to start at boot and on which interface.
echo "miniupnpd miniupnpd/start_daemon boolean false" | debconf-set-selections 2>/dev/null || true
echo "miniupnpd miniupnpd/force_igd_desc_v1 boolean false" | debconf-set-selections 2>/dev/null || true

apt_install() {
	apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}
if ! apt_install "${missing[@]}"; then
	apt-get update -q
	apt_install "${missing[@]}"
fi
