"""Settings from the environment, in one typed place. Nothing is read at import time.

Every variable is listed in ``docs/configuration.md`` and ``infradex serve --help``. A secret
may instead be given as a file: ``INFRADEX_SECRET_KEY_FILE=/run/secrets/key`` (the ``*_FILE``
form, for container secrets).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit

from infradex.durations import DurationError, parse_duration
from infradex.errors import UsageError
from infradex.netpolicy import DEFAULT_POLICY, AddressPolicy, PolicyError

__all__ = ["EMBEDDED_EXAMPLE", "Retention", "Settings", "default_store", "embedded_example"]

EMBEDDED_EXAMPLE = "psf"

#: variable → what it means (documentation and --help read this)
VARIABLES = {
    "INFRADEX_CATALOG": "catalog directory or file (default: the embedded PSF example)",
    "INFRADEX_DATA_DIR": "where the SQLite file and the generated secret key live "
    "(default: $XDG_DATA_HOME/infradex or ~/.local/share/infradex)",
    "INFRADEX_DATABASE_URL": "sqlite:///path/file.db (default: one file per catalog in the "
    "data directory, infradex.db for the embedded example) or "
    "postgresql://user:password@host:5432/dbname",
    "INFRADEX_SECRET_KEY": "signs session cookies and links (default: generated once and kept "
    "in the data directory); INFRADEX_SECRET_KEY_FILE reads it from a file",
    "INFRADEX_PUBLIC_READ": "true (default): anyone may read; false: everything needs sign-in",
    "INFRADEX_MONITOR": "run the catalog's checks inside serve: auto (default: yes for your "
    "own catalog, no for the embedded example, whose checks aim at real sites), true or false "
    "(serve --monitor means true)",
    "INFRADEX_CANARY_URL": "a check URL for the monitor's own connectivity (e.g. "
    "tcp://your-router:53); while it fails, failures are stored as unknown, not down",
    "INFRADEX_MONITOR_CONCURRENCY": "checks running at once at most (default 1000)",
    # what the monitor may reach (docs/monitor.md, "What the monitor may reach")
    "INFRADEX_MONITOR_ALLOW": "address ranges (CIDR, comma-separated) the monitor may reach "
    "even inside a denied range; an allow range wins only when it is more specific",
    "INFRADEX_MONITOR_DENY": "address ranges the monitor never connects to (default: `default`, "
    "link-local 169.254.0.0/16, fe80::/10 and cloud metadata addresses; write e.g. "
    "default,10.0.0.0/8 to add private ranges, or none)",
    "INFRADEX_SUBSCRIBER_WEBHOOK_ALLOW": "address ranges (CIDR, comma-separated) a status-page "
    "subscriber's webhook may reach although they are internal (loopback, private, link-local "
    "and other special ranges are refused by default; the monitor's deny list applies too)",
    "INFRADEX_CA_FILE": "PEM file of extra CAs the probes trust (default: the system's)",
    "INFRADEX_KEEP_RESULTS": "raw results kept per check (default 100)",
    "INFRADEX_MONITOR_QUEUE_MAX": "result rows the monitor holds while the store is down, "
    "oldest dropped beyond (default 50000)",
    "INFRADEX_KEEP_FAILURES": "how long failing results are kept (default 7d)",
    "INFRADEX_KEEP_HOURLY": "how long hourly rollups are kept (default 90d)",
    "INFRADEX_KEEP_DAILY": "how long daily rollups are kept (default 730d)",
    "INFRADEX_ALERTING": "open incidents and page people where the monitor runs: auto "
    "(default: wherever the monitor runs), true or false",
    "INFRADEX_BASE_URL": "the address people reach this server at, for links in messages "
    "(default: the address and port serve listens on; 127.0.0.1 when it listens on every "
    "address, with a warning)",
    "INFRADEX_SMTP_URL": "where email goes: smtp://user:password@host:587?starttls=true, "
    "smtps://host:465 or smtp://127.0.0.1:25 (secret: INFRADEX_SMTP_URL_FILE works too)",
    "INFRADEX_MAIL_FROM": "the From address of notifications (default infradex@<host name>)",
    "INFRADEX_PAGERDUTY_EVENTS_URL": "PagerDuty's Events API v2 endpoint (default "
    "https://events.pagerduty.com/v2/enqueue)",
    "INFRADEX_CORRELATION_WINDOW": "how long a failing check waits for something it depends "
    "on to fail too before it pages on its own (default 60s)",
    "INFRADEX_HEARTBEAT_URL": "a URL the server calls every minute while alerting runs, so a "
    "service outside (e.g. a dead man's switch) knows when it stops",
    "INFRADEX_LEADER_LEASE": "on PostgreSQL with several servers: how long the leading "
    "server's lease lasts; it is renewed every third of that, and another server takes over "
    "when it runs out (default 15s; a killed leader is replaced at once)",
    "INFRADEX_RELOAD_MAX_REMOVED": "the share of entities or checks a reload may remove "
    "before it is held as a plan to confirm (default 0.30; 30% also works); a reload that "
    "would close open incidents is always held",
    # the server's edge (issue 10)
    "INFRADEX_TRUSTED_PROXIES": "addresses or CIDR networks of reverse proxies whose "
    "X-Forwarded-For and X-Forwarded-Proto are believed, comma-separated, e.g. "
    "127.0.0.1,10.0.0.0/8 (default: none; the peer's address is the client's)",
    "INFRADEX_HEADER_TIMEOUT": "seconds a client has to send a request's headers before the "
    "connection is closed (default 5)",
}


def embedded_example(name: str = EMBEDDED_EXAMPLE) -> Path:
    """The directory of an example catalog shipped inside the package."""
    return Path(str(resources.files("infradex") / "examples" / name))


def is_embedded_example(path: Path) -> bool:
    """Whether ``path`` is the embedded example's directory (or a link to it)."""
    try:
        return path.resolve() == embedded_example().resolve()
    except OSError:
        return False


def default_store(data_dir: Path, catalog: Path) -> Path:
    """The SQLite file a catalog uses when no INFRADEX_DATABASE_URL is set: one per catalog
    (named after its resolved path), so two servers with different catalogs never show each
    other's incidents; the embedded example keeps ``infradex.db``."""
    if is_embedded_example(catalog):
        return data_dir / "infradex.db"
    resolved = catalog.expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    name = re.sub(r"[^a-z0-9]+", "-", resolved.name.lower()).strip("-")[:40] or "catalog"
    return data_dir / f"infradex-{name}-{digest}.db"


def _secret(environ: Mapping[str, str], name: str) -> str | None:
    """``NAME`` or the contents of the file named by ``NAME_FILE``."""
    value = environ.get(name)
    path = environ.get(f"{name}_FILE")
    if value and path:
        raise UsageError(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"{name}_FILE={path}: cannot read it ({exc.strerror})") from None
    return value or None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"{name}={raw!r}: write true or false")


def _tristate(environ: Mapping[str, str], name: str) -> bool | None:
    raw = environ.get(name, "").strip().lower()
    return None if raw in ("", "auto") else _flag(environ, name, False)


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"{name}={raw!r}: write a whole number of at least 1")
    return int(raw)


def _share(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{name}={raw!r}: write a share between 0 and 1 (e.g. 0.3) or 30%")
    return value


def _duration(environ: Mapping[str, str], name: str, default: str) -> timedelta:
    raw = environ.get(name, "").strip() or default
    try:
        return parse_duration(raw)
    except DurationError as exc:
        raise UsageError(f"{name}: {exc}") from None


def _url(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = environ.get(name, "").strip() or default
    if not raw.startswith(("http://", "https://")):
        raise UsageError(f"{name}={raw!r}: write a URL starting with https:// or http://")
    return raw.rstrip("/")


def _origin(environ: Mapping[str, str], name: str) -> str | None:
    """A URL of scheme and host (and port) only, e.g. ``https://status.python.org``; None
    when unset."""
    if not environ.get(name, "").strip():
        return None
    value = _url(environ, name, "")
    parts = urlsplit(value)
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(
            f"{name}={environ[name]!r}: give the scheme and host only, without a path, e.g. "
            "https://status.python.org (the status page is at /status under it)"
        )
    return value


def _host_name(environ: Mapping[str, str], name: str) -> str | None:
    """A bare host name (``status.python.org``), lower-cased; None when unset."""
    value = environ.get(name, "").strip().lower().rstrip(".")
    if not value:
        return None
    if not re.fullmatch(
        r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*", value
    ):
        raise UsageError(
            f"{name}={environ[name]!r} is not a host name: give the name alone, without a "
            "scheme, port or path, e.g. status.python.org"
        )
    return value


def _policy(environ: Mapping[str, str]) -> AddressPolicy:
    try:
        return AddressPolicy.from_text(
            environ.get("INFRADEX_MONITOR_ALLOW"), environ.get("INFRADEX_MONITOR_DENY")
        )
    except PolicyError as exc:
        raise UsageError(str(exc)) from None


def _networks(environ: Mapping[str, str], name: str) -> tuple[IPv4Network | IPv6Network, ...]:
    found = []
    for part in environ.get(name, "").split(","):
        if part.strip():
            try:
                found.append(ip_network(part.strip(), strict=False))
            except ValueError:
                raise UsageError(
                    f"{name}: {part.strip()!r} is not an address or network; write e.g. "
                    "127.0.0.1,10.0.0.0/8,fd00::/8"
                ) from None
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Retention:
    """How much history stays (docs/monitor.md has the row-count formula)."""

    results: int = 100
    failures: timedelta = timedelta(days=7)
    hourly: timedelta = timedelta(days=90)
    daily: timedelta = timedelta(days=730)


@dataclass(frozen=True, slots=True)
class Settings:
    catalog: Path
    catalog_is_embedded: bool
    data_dir: Path
    database_url: str
    secret_key: str | None
    public_read: bool
    monitor: bool | None = None  # None: auto
    canary_url: str | None = None
    monitor_concurrency: int = 1000
    ca_file: str | None = None
    retention: Retention = Retention()
    alerting: bool | None = None  # None: auto (with the monitor)
    base_url: str = "http://127.0.0.1:8000"
    base_url_given: bool = False  # INFRADEX_BASE_URL set; else serve uses its listener's
    smtp_url: str | None = None
    mail_from: str | None = None
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    correlation_window: timedelta = timedelta(seconds=60)
    heartbeat_url: str | None = None
    monitor_policy: AddressPolicy = DEFAULT_POLICY
    # the server's edge (issue 10)
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    header_timeout: float = 5.0
    # the monitor's queue of unwritten rows while the store is down (docs/monitor.md)
    monitor_queue_max: int = 50_000
    # a reload removing more than this share of entities or checks waits for confirmation
    reload_max_removed: float = 0.30
    leader_lease: timedelta = timedelta(seconds=15)
    # octoDNS classes the operator allows beyond the defaults (docs/dns.md)
    dns_provider_classes: frozenset[str] = frozenset()
    # the public status page (docs/status-page.md)
    status_name: str = "Status"
    status_host: str | None = None  # requests for this Host get only the status page
    # the status page's public address (scheme and host), for subscribers' links
    status_url: str | None = None
    status_stale_after: timedelta = timedelta(minutes=10)
    # internal ranges a subscriber's webhook may reach all the same (docs/status-page.md)
    subscriber_webhook_allow: tuple[IPv4Network | IPv6Network, ...] = ()

    @property
    def subscriber_policy(self) -> AddressPolicy:
        """Where a status-page subscriber's webhook may be sent: not to internal addresses
        unless INFRADEX_SUBSCRIBER_WEBHOOK_ALLOW says so, nor where the monitor may not go."""
        return self.monitor_policy.without_internal(self.subscriber_webhook_allow)

    @property
    def monitor_enabled(self) -> bool:
        """Whether serve runs the checks: asked for, or auto and not the embedded example
        (however it was named: its checks aim at real sites)."""
        if self.monitor is not None:
            return self.monitor
        return not (self.catalog_is_embedded or is_embedded_example(self.catalog))

    def alerting_enabled(self, monitoring: bool) -> bool:
        """Alerting runs next to the monitor unless told otherwise; it needs one's states."""
        return monitoring and (self.alerting is None or self.alerting)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, catalog: str | Path | None = None
    ) -> Settings:
        """``catalog`` (from ``--catalog``) wins over ``INFRADEX_CATALOG``, which wins over
        the embedded PSF example."""
        environ = os.environ if environ is None else environ
        chosen = catalog or environ.get("INFRADEX_CATALOG") or None
        data_home = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        data_dir = Path(environ.get("INFRADEX_DATA_DIR") or Path(data_home) / "infradex")
        catalog_path = Path(chosen).expanduser() if chosen else embedded_example()
        database = _secret(environ, "INFRADEX_DATABASE_URL") or (
            f"sqlite:///{default_store(data_dir.expanduser(), catalog_path)}"
        )
        return cls(
            catalog=catalog_path,
            catalog_is_embedded=not chosen,
            data_dir=data_dir.expanduser(),
            database_url=database,
            secret_key=_secret(environ, "INFRADEX_SECRET_KEY"),
            public_read=_flag(environ, "INFRADEX_PUBLIC_READ", True),
            monitor=_tristate(environ, "INFRADEX_MONITOR"),
            canary_url=environ.get("INFRADEX_CANARY_URL") or None,
            monitor_concurrency=_count(environ, "INFRADEX_MONITOR_CONCURRENCY", 1000),
            monitor_queue_max=_count(environ, "INFRADEX_MONITOR_QUEUE_MAX", 50_000),
            ca_file=environ.get("INFRADEX_CA_FILE") or None,
            retention=Retention(
                results=_count(environ, "INFRADEX_KEEP_RESULTS", 100),
                failures=_duration(environ, "INFRADEX_KEEP_FAILURES", "7d"),
                hourly=_duration(environ, "INFRADEX_KEEP_HOURLY", "90d"),
                daily=_duration(environ, "INFRADEX_KEEP_DAILY", "730d"),
            ),
            alerting=_tristate(environ, "INFRADEX_ALERTING"),
            base_url=_url(environ, "INFRADEX_BASE_URL", "http://127.0.0.1:8000"),
            base_url_given=bool(environ.get("INFRADEX_BASE_URL")),
            smtp_url=_secret(environ, "INFRADEX_SMTP_URL"),
            mail_from=environ.get("INFRADEX_MAIL_FROM") or None,
            pagerduty_events_url=_url(
                environ,
                "INFRADEX_PAGERDUTY_EVENTS_URL",
                "https://events.pagerduty.com/v2/enqueue",
            ),
            correlation_window=_duration(environ, "INFRADEX_CORRELATION_WINDOW", "60s"),
            heartbeat_url=(
                _url(environ, "INFRADEX_HEARTBEAT_URL", "")
                if environ.get("INFRADEX_HEARTBEAT_URL")
                else None
            ),
            monitor_policy=_policy(environ),
            trusted_proxies=_networks(environ, "INFRADEX_TRUSTED_PROXIES"),
            header_timeout=float(_count(environ, "INFRADEX_HEADER_TIMEOUT", 5)),
            reload_max_removed=_share(environ, "INFRADEX_RELOAD_MAX_REMOVED", 0.30),
            leader_lease=_duration(environ, "INFRADEX_LEADER_LEASE", "15s"),
            dns_provider_classes=frozenset(
                c.strip()
                for c in environ.get("INFRADEX_DNS_PROVIDER_CLASSES", "").split(",")
                if c.strip()
            ),
            status_name=(environ.get("INFRADEX_STATUS_NAME") or "Status").strip(),
            status_host=_host_name(environ, "INFRADEX_STATUS_HOST"),
            status_url=_origin(environ, "INFRADEX_STATUS_URL"),
            status_stale_after=_duration(environ, "INFRADEX_STATUS_STALE_AFTER", "10m"),
            subscriber_webhook_allow=_networks(environ, "INFRADEX_SUBSCRIBER_WEBHOOK_ALLOW"),
        )

    def resolved_secret_key(self) -> str:
        """The secret key; when none is set, one generated once and kept (mode 0600) in the
        data directory, so sessions survive a restart."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        try:
            if path.exists():
                return path.read_text(encoding="utf-8").strip()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(key + "\n")
        except OSError as exc:
            raise UsageError(
                f"cannot keep the secret key in {path}: {exc.strerror}; set INFRADEX_DATA_DIR "
                "to a directory you can write, or set INFRADEX_SECRET_KEY"
            ) from None
        return key
