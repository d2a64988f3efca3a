"""Which browser requests may reach the engine: the defence against other web pages.

A page on another origin can make a developer's browser send requests to the engine; DNS
rebinding can even make such a page same-origin with it. So:

- ``Host`` must name the engine: a loopback name, an IP literal (no DNS, so no rebinding),
  the bound host, or, when bound to every interface, this machine's own names. An engine
  bound to every interface is meant to be reached by other names too, so there only
  requests from a browser (with an ``Origin``) are held to these names.
- A request that can change state (any method but GET, HEAD, OPTIONS) with an ``Origin``
  header must come from the engine's own origin. SDKs and scripts send no ``Origin``, so
  the event API, app sync and the SDK's ``/v0`` calls work as before.

The port is not compared: port forwarding (containers, SSH tunnels) changes it, and it plays
no part in rebinding, which works by name.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
# How containers reach a service on their host.
CONTAINER_HOST_NAMES = frozenset({"host.docker.internal", "host.containers.internal"})
# Clients send the same few Host values again and again: their verdicts are kept, up to this
# many (then forgotten all at once, so many made-up names cannot grow the engine).
_KEPT_HOSTS = 256


def host_name(host_header: str) -> str | None:
    """The name in a ``Host`` header, lower-case, without port or IPv6 brackets."""
    try:
        parts = urllib.parse.urlsplit(f"//{host_header.strip()}")
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return None
    return parts.hostname or None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Guard:
    """The checks for an engine bound to ``bound_host``."""

    def __init__(self, bound_host: str) -> None:
        self.wildcard = bound_host in WILDCARD_HOSTS
        names = set(LOOPBACK_NAMES) | {bound_host.lower().strip("[]")}
        if self.wildcard:
            names |= CONTAINER_HOST_NAMES | {socket.gethostname().lower(),
                                             socket.getfqdn().lower()}
        self.names = frozenset(names)
        self._hosts: dict[str, bool] = {}

    def names_engine(self, host: str) -> bool:
        """Whether the ``Host`` header ``host`` names this engine."""
        known = self._hosts.get(host)
        if known is None:
            name = host_name(host)
            known = name is not None and (_is_ip(name) or name in self.names)
            if len(self._hosts) >= _KEPT_HOSTS:
                self._hosts.clear()
            self._hosts[host] = known
        return known

    def refusal(self, method: str, headers: dict[str, str]) -> str | None:
        """Why a request must be refused, or None; ``headers`` has lower-case names."""
        host, origin = headers.get("host"), headers.get("origin")
        # Bound to every interface, the engine answers to any name its network gives it
        # (a compose service name, say) unless a browser sent the request.
        if host is not None and (origin is not None or not self.wildcard) \
                and not self.names_engine(host):
            return f"host {host!r} does not name this engine"
        if method.upper() in SAFE_METHODS or origin is None:
            return None
        if host is None or origin.lower().rstrip("/") != f"http://{host.lower()}":
            return f"origin {origin!r} may not change this engine's state"
        return None
