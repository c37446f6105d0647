"""Network namespaces for the agents' tests: a hub (the server and the target) and one
namespace per agent, each joined to the hub by a veth pair created inside the namespaces (the
host's own network is never touched). Paths are cut with blackhole routes in an agent's
namespace, so each agent loses exactly the path the test names.

    agent ns (10.200.N.2) --veth-- hub (10.200.N.1; 10.201.0.1 target, 10.201.0.2 server)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

__all__ = ["SERVER_ADDRESS", "TARGET_ADDRESS", "Topology", "netns_available"]

TARGET_ADDRESS = "10.201.0.1"
SERVER_ADDRESS = "10.201.0.2"


def netns_available() -> bool:
    """Whether this machine lets the tests make network namespaces (root and iproute2)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    return subprocess.run(["ip", "netns", "list"], capture_output=True).returncode == 0


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class Topology:
    def __init__(self, prefix: str, agents: Sequence[str]) -> None:
        self.hub = f"{prefix}-hub"
        self.agent_ns = {name: f"{prefix}-{name}" for name in agents}
        self.made: list[str] = []

    def build(self) -> None:
        _ip("netns", "add", self.hub)
        self.made.append(self.hub)
        _ip("-n", self.hub, "link", "set", "lo", "up")
        for address in (TARGET_ADDRESS, SERVER_ADDRESS):
            _ip("-n", self.hub, "addr", "add", f"{address}/32", "dev", "lo")
        for n, (name, ns) in enumerate(self.agent_ns.items(), start=1):
            _ip("netns", "add", ns)
            self.made.append(ns)
            hub_side = f"h-{name}"[:15]
            _ip("link", "add", hub_side, "netns", self.hub, "type", "veth",
                "peer", "name", "eth0", "netns", ns)  # fmt: skip
            _ip("-n", self.hub, "addr", "add", f"10.200.{n}.1/24", "dev", hub_side)
            _ip("-n", self.hub, "link", "set", hub_side, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"10.200.{n}.2/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "route", "add", "10.201.0.0/24", "via", f"10.200.{n}.1")

    def destroy(self) -> None:
        """Delete every namespace made (their veths go with them); safe to call twice."""
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made = []

    def prefix_command(self, namespace: str) -> list[str]:
        return ["ip", "netns", "exec", namespace]

    def cut(self, agent: str, address: str) -> None:
        """The agent loses its path to ``address`` (the target or the server)."""
        _ip("-n", self.agent_ns[agent], "route", "add", "blackhole", f"{address}/32")

    def mend(self, agent: str, address: str) -> None:
        _ip("-n", self.agent_ns[agent], "route", "del", "blackhole", f"{address}/32")
