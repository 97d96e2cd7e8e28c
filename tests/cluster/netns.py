"""The network namespace the whole no-Docker cluster lives in.

Every component starts under ``nsenter --net=/run/netns/<name>`` (not
``ip netns exec``, which would also give each command its own mount namespace:
kubelet and containerd must see the same mounts). Inside, the node's address
sits on an otherwise empty bridge (this kernel has no ``dummy`` links and
kubelet refuses a loopback node IP); forwarding and iptables are the
namespace's own, and it has no route out. Deleting the namespace removes every
link, address, route, iptables rule and ipset made in it.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNET = 0x40000000
NODE_BRIDGE = "wwnode"
NODE_IP = "172.31.0.1"
NODE_CIDR = "172.31.0.0/24"
POD_CIDR = "10.244.0.0/24"
# The database host (RDS's stand-in): a namespace of its own behind a veth link,
# so that pods reach it through the node's forwarding (where NetworkPolicy
# applies), never as the node's own address.
DB_IP = "172.31.1.2"
DB_GATEWAY = "172.31.1.1"
DB_LINK = "wwdb"


@dataclass(frozen=True)
class Netns:
    """A named network namespace (``/run/netns/<name>``)."""

    name: str

    @property
    def path(self) -> Path:
        return Path("/run/netns") / self.name

    def command(self, *argv: str) -> list[str]:
        """``argv`` run inside the namespace (network only; mounts are shared)."""
        return ["nsenter", f"--net={self.path}", "--", *argv]

    def run(self, *argv: str) -> str:
        """Run ``argv`` inside the namespace; its standard output."""
        return subprocess.run(
            self.command(*argv), check=True, capture_output=True, text=True
        ).stdout


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def create(name: str) -> Netns:
    """Make the namespace with loopback up and the node bridge holding NODE_IP."""
    _ip("netns", "add", name)
    ns = Netns(name)
    ns.run("ip", "link", "set", "lo", "up")
    ns.run("ip", "link", "add", NODE_BRIDGE, "type", "bridge")
    ns.run("ip", "addr", "add", f"{NODE_IP}/24", "dev", NODE_BRIDGE)
    ns.run("ip", "link", "set", NODE_BRIDGE, "up")
    # Pods on ptp links are routed by this namespace (never by the machine's).
    ns.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
    return ns


def create_database_host(cluster: Netns) -> Netns:
    """A second namespace holding DB_IP, linked to ``cluster`` (which routes for it)."""
    host = Netns(f"{cluster.name}-db")
    _ip("netns", "add", host.name)
    cluster.run("ip", "link", "add", DB_LINK, "type", "veth", "peer", "name", "eth0",
                "netns", host.name)  # fmt: skip
    cluster.run("ip", "addr", "add", f"{DB_GATEWAY}/30", "dev", DB_LINK)
    cluster.run("ip", "link", "set", DB_LINK, "up")
    host.run("ip", "link", "set", "lo", "up")
    host.run("ip", "addr", "add", f"{DB_IP}/30", "dev", "eth0")
    host.run("ip", "link", "set", "eth0", "up")
    host.run("ip", "route", "add", "default", "via", DB_GATEWAY)
    return host


def delete(ns: Netns) -> None:
    """Remove the namespace and so every link and rule made inside it."""
    if ns.path.exists():
        _ip("netns", "delete", ns.name)


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns {path}: {os.strerror(errno)}")
    finally:
        os.close(fd)


@contextmanager
def entered(ns: Netns) -> Iterator[None]:
    """Move the calling thread into ``ns`` (its new sockets open there); move it back after."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        _setns(ns.path)
        yield
    finally:
        if _libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back to the original namespace failed")
        os.close(home)
