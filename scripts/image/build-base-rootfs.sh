#!/bin/sh
# Build a stand-in for python:3.11-slim-bookworm where no registry is reachable:
# a minimal Debian bookworm (debootstrap --variant=minbase) with Debian's own
# python3 (3.11) and python3-venv, packed as a tarball for `podman import`.
#
# usage: build-base-rootfs.sh OUTPUT.tar [MIRROR]
# Needs root (debootstrap chroots) and a Debian mirror. Idempotent: an existing
# OUTPUT.tar is kept, so the tests cache it (tests/image/engine.py: under WW_TOOL_CACHE).
set -eu

out=$1
mirror=${2:-http://deb.debian.org/debian}

if [ -s "$out" ]; then
    echo "base rootfs: $out exists, keeping it"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/wh-rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$work/rootfs" "$mirror"

# What a slim image leaves out: package lists, caches, docs, man pages.
chroot "$work/rootfs" apt-get clean
rm -rf "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/cache/apt/*.bin \
    "$work/rootfs"/usr/share/doc/* "$work/rootfs"/usr/share/man/* \
    "$work/rootfs"/var/log/*.log "$work/rootfs"/debootstrap

mkdir -p "$(dirname "$out")"
tar --numeric-owner -C "$work/rootfs" -cf "$out.partial" .
mv "$out.partial" "$out"
echo "base rootfs: wrote $out"
