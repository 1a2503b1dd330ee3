"""Where a connector may connect: the check against server-side request forgery (stdlib only).

A tenant names a host in a DSN or URI; Kariz then connects from inside its own network. So every
target is checked twice: when the connector is registered (`TargetPolicy.check`, on the literal
hosts and what they resolve to now) and again when it connects (`TargetPolicy.pin`, which resolves
the name, checks every address and returns them, so the driver connects to exactly the addresses
that were checked: a DNS answer that changes between the check and the connect cannot slip in).

Refused unless an operator allow-lists them: Unix sockets, loopback, link-local (with the cloud
metadata addresses), private, shared (CGNAT), multicast, reserved and unspecified addresses, their
IPv6 forms (v4-mapped, 6to4, NAT64 included), and Kariz's own database (its "protected" endpoints),
which a broad allow-list entry does not open: only an entry naming its exact address and port (or
socket folder) does.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from connectors.errors import SourceTargetForbidden

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

NAT64 = ipaddress.ip_network("64:ff9b::/96")
METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One place a connector would connect to: a host name or IP literal and a port, or a Unix
    socket (`host` an absolute path, the socket's folder or file)."""

    host: str
    port: int

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/") or self.host.startswith("@")

    def __str__(self) -> str:
        if self.is_socket:
            return f"unix socket {self.host}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection (the system resolver, as drivers use)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in seen:
            seen.append(address)
    return seen


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _embedded_v4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (v4-mapped, 6to4, NAT64, Teredo), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def non_public_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address (loopback, private, ...), or None if it is."""
    inner = _embedded_v4(address)
    if inner is not None:
        reason = non_public_reason(inner)
        return f"{reason} (as {address})" if reason else None
    if address in METADATA:
        return "a cloud metadata address"
    for test, reason in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_unspecified", "the unspecified address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private-network address"),
    ):
        if getattr(address, test):
            return reason
    if not address.is_global:
        return "a shared (CGNAT) or otherwise non-public address"
    return None


@dataclass(frozen=True, slots=True)
class AllowRule:
    """One allow-list entry: a network (CIDR or single address), a host name, or a socket folder;
    with an optional port (`10.0.0.0/8`, `db.internal:5432`, `[fd00::5]:5432`, `/run/postgresql`)."""

    network: IPNetwork | None = None
    host: str | None = None
    socket_dir: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> AllowRule:
        entry = text.strip()
        if not entry:
            raise ValueError("empty allow-list entry")
        if entry.startswith("/"):
            return cls(socket_dir=str(PurePosixPath(entry)))
        port: int | None = None
        if entry.startswith("["):  # [v6] or [v6]:port or [v6/len]:port
            inner, _, rest = entry[1:].partition("]")
            entry = inner
            if rest:
                port = int(rest.lstrip(":"))
        elif entry.count(":") == 1:
            entry, _, port_text = entry.partition(":")
            port = int(port_text)
        try:
            return cls(network=ipaddress.ip_network(entry, strict=False), port=port)
        except ValueError:
            return cls(host=entry.lower().rstrip("."), port=port)

    @property
    def exact(self) -> bool:
        """True when this entry names one endpoint (a single address or a host, with a port) or one
        socket folder: only such an entry opens a protected endpoint."""
        if self.socket_dir is not None:
            return True
        single = self.network is not None and self.network.num_addresses == 1
        return self.port is not None and (single or self.host is not None)

    def covers_name(self, endpoint: Endpoint) -> bool:
        return (
            self.host is not None
            and self.host == endpoint.host.lower().rstrip(".")
            and self.port in (None, endpoint.port)
        )

    def covers_address(self, address: IPAddress, port: int) -> bool:
        return self.network is not None and address in self.network and self.port in (None, port)

    def covers_socket(self, path: str) -> bool:
        if self.socket_dir is None:
            return False
        candidate = PurePosixPath(path)
        allowed = PurePosixPath(self.socket_dir)
        return candidate == allowed or allowed in candidate.parents


@dataclass
class TargetPolicy:
    """The check every connector runs on its endpoints; immutable once built, safe across threads.

    `allowed` are the operator's allow-list entries (`KARIZ_CONNECTOR_ALLOWED_NETWORKS`);
    `protected` are endpoints no tenant may reach unless an exact entry names them (Kariz's own
    database). `resolver` turns a name into addresses (the system resolver by default).
    """

    allowed: Sequence[AllowRule] = ()
    protected: Sequence[Endpoint] = ()
    resolver: Resolver = system_resolver
    _protected_addresses: list[tuple[IPAddress, int]] | None = field(default=None, repr=False)

    @classmethod
    def from_entries(
        cls, entries: Iterable[str], *, protected: Sequence[Endpoint] = (), resolver: Resolver | None = None
    ) -> TargetPolicy:
        """A policy from allow-list strings (CIDRs, hosts, `host:port`, socket folders)."""
        rules = [AllowRule.parse(e) for e in entries if e.strip()]
        return cls(allowed=rules, protected=protected, resolver=resolver or system_resolver)

    # -- decisions -------------------------------------------------------------------------------

    def _forbid(self, endpoint: Endpoint, why: str) -> SourceTargetForbidden:
        return SourceTargetForbidden(
            f"connecting to {endpoint} is not allowed: {why}; an operator can allow it with "
            "KARIZ_CONNECTOR_ALLOWED_NETWORKS",
            extra={"target": str(endpoint)},
        )

    def _protected(self) -> list[tuple[IPAddress, int]]:
        if self._protected_addresses is None:
            found: list[tuple[IPAddress, int]] = []
            for endpoint in self.protected:
                if endpoint.is_socket:
                    continue
                literal = _literal(endpoint.host)
                try:
                    addresses = [literal] if literal else [_literal(a) for a in self.resolver(endpoint.host, endpoint.port)]
                except OSError:
                    addresses = []
                found += [(a, endpoint.port) for a in addresses if a is not None]
            self._protected_addresses = found
        return self._protected_addresses

    def _is_protected_socket(self, path: str) -> bool:
        candidate = PurePosixPath(path)
        for endpoint in self.protected:
            if endpoint.is_socket:
                own = PurePosixPath(endpoint.host)
                if candidate == own or own in candidate.parents or candidate in own.parents:
                    return True
        return False

    def _check_socket(self, endpoint: Endpoint) -> None:
        rules = [r for r in self.allowed if r.covers_socket(endpoint.host)]
        if not rules:
            raise self._forbid(endpoint, "Unix sockets reach services on Kariz's own machine")
        if self._is_protected_socket(endpoint.host) and not any(
            PurePosixPath(r.socket_dir or "") == PurePosixPath(endpoint.host) for r in rules
        ):
            raise self._forbid(endpoint, "it is Kariz's own database")

    def check_address(self, endpoint: Endpoint, address: str) -> None:
        """Raise `SourceTargetForbidden` unless `endpoint` may be reached at `address` (an IP)."""
        ip = _literal(address)
        if ip is None:
            raise self._forbid(endpoint, f"{address!r} is not an IP address")
        by_name = [r for r in self.allowed if r.covers_name(endpoint)]
        by_address = [r for r in self.allowed if r.covers_address(ip, endpoint.port)]
        inner = _embedded_v4(ip)
        if inner is not None:
            by_address += [r for r in self.allowed if r.covers_address(inner, endpoint.port)]
        rules = by_name + by_address
        own = [(a, p) for a, p in self._protected() if p == endpoint.port and a in (ip, inner)]
        if own and not any(r.exact for r in rules):
            raise self._forbid(endpoint, f"{ip} is Kariz's own database")
        if rules:
            return
        reason = non_public_reason(ip)
        if reason is not None:
            shown = "" if _literal(endpoint.host) == ip else f" ({endpoint.host} resolves to {ip})"
            raise self._forbid(endpoint, f"{reason}{shown}")

    def pin(self, endpoint: Endpoint) -> list[str]:
        """The addresses to connect to for `endpoint`, every one checked (connect time).

        A name is resolved once here; the caller connects to these addresses, not to the name,
        so what was checked is what is reached. A socket path is returned as it is when allowed.
        Raise `SourceTargetForbidden` if any address is refused, `OSError` if the name does not
        resolve.
        """
        if endpoint.is_socket:
            self._check_socket(endpoint)
            return [endpoint.host]
        literal = _literal(endpoint.host)
        addresses = [str(literal)] if literal is not None else self.resolver(endpoint.host, endpoint.port)
        if not addresses:
            raise OSError(f"{endpoint.host} resolves to no address")
        for address in addresses:
            self.check_address(endpoint, address)
        return addresses

    def check(self, endpoints: Iterable[Endpoint]) -> None:
        """Refuse endpoints that can never be reached (registration time): sockets and addresses
        refused by this policy, and names that resolve to such addresses now. A name that does not
        resolve yet is accepted here; the connect-time check decides."""
        for endpoint in endpoints:
            try:
                self.pin(endpoint)
            except OSError:
                continue


STRICT = TargetPolicy()
"""No allow-list and nothing protected beyond the non-public ranges: the default of a connector
built without a policy."""
