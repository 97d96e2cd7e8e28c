"""The network namespaces the no-Docker cluster lives in.

The cluster's namespace holds every component and the test process itself
(:mod:`tests.cluster.launch` starts pytest inside it), so the tests reach every
address directly and nothing is routed from the machine's own namespace.
Inside, the node's address sits on an otherwise empty bridge (this kernel has
no ``dummy`` links and kubelet refuses a loopback node IP); forwarding and
iptables are the namespace's own, and it has no route out. The database host
(RDS's stand-in) is a second namespace behind a veth link. Deleting a namespace
removes every link, address, route, iptables rule and ipset made in it.

Making and entering namespaces needs root: :func:`scripts.root.as_root`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from scripts.root import as_root

NODE_BRIDGE = "wwnode"
NODE_IP = "172.31.0.1"
NODE_CIDR = "172.31.0.0/24"
POD_CIDR = "10.244.0.0/24"
POD_GATEWAY = "10.244.0.1"  # the node's side of every pod's ptp link
SERVICE_CIDR = "10.96.0.0/16"
CLUSTER_DNS_IP = "10.96.0.10"  # CoreDNS's Service, as kubeadm places it
# The database host: pods reach it through the node's forwarding (where
# NetworkPolicy applies), never as the node's own address.
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

    @property
    def database_host(self) -> Netns:
        """The database host's namespace beside this cluster namespace."""
        return Netns(f"{self.name}-db")

    def command(self, *argv: str) -> list[str]:
        """``argv`` run as root inside the namespace (network only; mounts are shared).

        ``nsenter --net``, not ``ip netns exec``: the latter also gives each command
        a mount namespace of its own, and kubelet and containerd must see the same mounts.
        """
        return as_root(["nsenter", f"--net={self.path}", "--", *argv])

    def run(self, *argv: str) -> str:
        """Run ``argv`` as root inside the namespace; its standard output."""
        result = subprocess.run(self.command(*argv), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"in {self.name}: {' '.join(argv)}: {result.stderr.strip()}")
        return result.stdout


def _add(ns: Netns) -> None:
    subprocess.run(as_root(["ip", "netns", "add", ns.name]), check=True, capture_output=True)
    ns.run("ip", "link", "set", "lo", "up")


def create(name: str) -> Netns:
    """The cluster's namespace (loopback up, the node bridge holding NODE_IP) and its
    database host's; both are this run's own, deleted by :func:`delete`."""
    ns = Netns(name)
    _add(ns)
    ns.run("ip", "link", "add", NODE_BRIDGE, "type", "bridge")
    ns.run("ip", "addr", "add", f"{NODE_IP}/24", "dev", NODE_BRIDGE)
    ns.run("ip", "link", "set", NODE_BRIDGE, "up")
    # A route to the Services' range, as a node's default route gives: the
    # kernel routes before kube-proxy's OUTPUT rules rewrite the address, so
    # without one the node's own processes cannot reach a ClusterIP.
    ns.run("ip", "route", "add", SERVICE_CIDR, "dev", NODE_BRIDGE)
    # Pods on ptp links are routed by this namespace (never by the machine's).
    ns.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
    # moto stands in for AWS on 443 (the port the chart's policy opens), run by
    # the invoking user: in this namespace alone, every port is theirs to bind.
    ns.run("sysctl", "-qw", "net.ipv4.ip_unprivileged_port_start=0")
    host = ns.database_host
    _add(host)
    ns.run("ip", "link", "add", DB_LINK, "type", "veth", "peer", "name", "eth0",
           "netns", host.name)  # fmt: skip
    ns.run("ip", "addr", "add", f"{DB_GATEWAY}/30", "dev", DB_LINK)
    ns.run("ip", "link", "set", DB_LINK, "up")
    host.run("ip", "addr", "add", f"{DB_IP}/30", "dev", "eth0")
    host.run("ip", "link", "set", "eth0", "up")
    host.run("ip", "route", "add", "default", "via", DB_GATEWAY)
    return ns


def delete(ns: Netns) -> None:
    """Remove the cluster's namespace and its database host's (and so all made inside)."""
    for each in (ns.database_host, ns):
        if each.path.exists():
            subprocess.run(as_root(["ip", "netns", "delete", each.name]), check=False,
                           capture_output=True)  # fmt: skip
