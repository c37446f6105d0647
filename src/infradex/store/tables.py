"""Every table, in SQLAlchemy Core. Rows are facts: results, state changes, incidents and
notifications are appended and claimed, never kept only in memory.

docs/store.md says what each table holds, what writes and reads it, and how to add a migration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect

__all__ = [
    "action_links",
    "agents",
    "api_tokens",
    "audit_log",
    "catalog_loads",
    "check_results",
    "check_rollups",
    "check_states",
    "incident_events",
    "incident_members",
    "incidents",
    "leases",
    "location_states",
    "maintenance_windows",
    "metadata",
    "notifications",
    "public_incident_updates",
    "public_incidents",
    "sessions",
    "sign_in_limits",
    "state_changes",
    "status_overrides",
    "store_heartbeat",
    "subscribers",
    "users",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: an id that is 64-bit on PostgreSQL and SQLite's rowid on SQLite (autoincrement works)
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both engines (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store takes timezone-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Time = UtcDateTime()


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


catalog_loads = Table(
    "catalog_loads",
    metadata,
    _id(),
    Column("loaded_at", Time, nullable=False),
    Column("source", Text, nullable=False),
    Column("git_commit", String(64)),
    Column("trigger", String(32), nullable=False),  # start, api, signal, cli
    Column("accepted", Boolean, nullable=False),  # False: refused, the last good one stays
    Column("entities", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("problems", JSON, nullable=False),
    Column("diff", JSON, nullable=False),  # {"added": [...], "removed": [...], "changed": [...]}
)

reload_plans = Table(
    "reload_plans",
    metadata,
    _id(),
    Column("created_at", Time, nullable=False),
    Column("source", Text, nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # the held catalog's content
    Column("plan", JSON, nullable=False),  # what it removes, what it closes, why it is held
    Column("status", String(16), nullable=False),  # held, confirmed, superseded
    Column("decided_at", Time),
    Column("decided_by", String(200)),  # who confirmed it (token:NAME, user:NAME)
    Index(None, "status", "source"),
)

check_results = Table(
    "check_results",
    metadata,
    _id(),
    Column("check_id", String(200), nullable=False),  # "service:docs/home"
    Column("location", String(63), nullable=False, server_default="local"),
    Column("started_at", Time, nullable=False),
    Column("duration_ms", Float),
    Column("success", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # up, down, unknown, maintenance
    Column("error_kind", String(32)),
    Column("message", Text),
    Column("observed", JSON),  # placeholder values and each condition's verdict
    Index(None, "check_id", "started_at"),
)

#: a check's state (monitor.evaluate.CheckState): check_states, and location_states per location
_STATE_COLUMNS = (
    ("state", String(16), False),  # shown: pending up down flapping maintenance unknown
    ("hard_state", String(16), False),  # pending up down (after thresholds)
    ("failures", Integer, False),  # consecutive
    ("successes", Integer, False),
    ("flapping", Boolean, False),
    ("history", String(32), False),  # last outcomes, oldest first: "uudu"
    ("since", Time, True),  # when `state` last changed
    ("last_result_at", Time, True),
    ("last_status", String(16), True),
    ("last_message", Text, True),
    ("last_duration_ms", Float, True),
    ("last_observed", JSON, True),  # phases, status code, certificate expiry: for /metrics
)

check_states = Table(
    "check_states",
    metadata,
    Column("check_id", String(200), primary_key=True),
    *(Column(name, kind, nullable=nullable) for name, kind, nullable in _STATE_COLUMNS),
)

check_rollups = Table(
    "check_rollups",
    metadata,
    Column("check_id", String(200), primary_key=True),
    Column("period", String(8), primary_key=True),  # hour, day
    Column("bucket", Time, primary_key=True),  # start of the hour or UTC day
    Column("up", Integer, nullable=False),
    Column("down", Integer, nullable=False),
    Column("unknown", Integer, nullable=False),
    Column("maintenance", Integer, nullable=False),
    Column("latency_count", Integer, nullable=False),
    Column("latency_sum", Float, nullable=False),
    Column("latency_min", Float),
    Column("latency_max", Float),
    Column("latency_p95", Float),  # from the histogram, kept so charts need not decode it
    Column("latency_histogram", JSON, nullable=False),  # log buckets: {"index": count}
    # for retention; not (period, bucket), which SQLite's planner prefers over the primary key
    # for one check's series, scanning every check's rows
    Index(None, "bucket"),
)

state_changes = Table(
    "state_changes",
    metadata,
    _id(),
    Column("check_id", String(200), nullable=False),
    Column("at", Time, nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("reason", Text),
    Column("handled_at", Time),  # set once alerting has consumed the change
    Index(None, "check_id", "at"),
    Index(None, "handled_at"),
)

incidents = Table(
    "incidents",
    metadata,
    _id(),
    Column("key", String(200), nullable=False),  # the root's ref; one open incident per key
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open, acknowledged, resolved
    Column("root_ref", String(200), nullable=False),
    Column("opened_at", Time, nullable=False),
    Column("acknowledged_at", Time),
    Column("acknowledged_by", String(200)),
    Column("resolved_at", Time),
    Column("snoozed_until", Time),
    Column("policy", JSON),  # the escalation policy as it was when the incident opened
    # escalation (0003): the next step's position over all cycles, when it is due (null: no
    # more steps, or acknowledged) and when the current round began (opened, reopened, snooze)
    Column("escalation_step", Integer, nullable=False, server_default="0"),
    Column("escalation_at", Time),
    Column("escalation_started_at", Time),
    Column("updated_at", Time),
    # set by people's actions (web, API, CLI, links), cleared once alerting has told the
    # policy's channels and the people paged: survives a restart of the alerting process
    Column("needs_notice", Boolean, nullable=False, server_default="0"),
    Index(None, "status", "key"),
    Index(None, "escalation_at"),
    Index(None, "needs_notice"),
    # one open incident per root, whatever runs: a second alerter's duplicate fails
    Index(
        "uq_incidents_open_key",
        "key",
        unique=True,
        sqlite_where=text("status != 'resolved'"),
        postgresql_where=text("status != 'resolved'"),
    ),
)

incident_members = Table(
    "incident_members",
    metadata,
    _id(),
    Column("incident_id", Id, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("check_id", String(200), nullable=False),
    Column("entity_ref", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # root (the incident's own) or impacted
    Column("down_at", Time, nullable=False),
    Column("up_at", Time),  # null while the check is down
    Column("message", Text),
    Index(None, "incident_id", "check_id", unique=True),
    Index(None, "check_id", "up_at"),
)

action_links = Table(
    "action_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the secret in the URL
    Column("incident_id", Id, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(16), nullable=False),  # acknowledge, resolve
    Column("recipient", String(200), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("used_at", Time),
)

incident_events = Table(
    "incident_events",
    metadata,
    _id(),
    Column("incident_id", Id, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("at", Time, nullable=False),
    Column("kind", String(32), nullable=False),  # opened, result, notified, acknowledged, ...
    Column("actor", String(200)),
    Column("data", JSON),
    Index(None, "incident_id", "at"),
)

notifications = Table(
    "notifications",
    metadata,
    _id(),
    Column("incident_id", Id, ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("channel", String(32), nullable=False),  # email, webhook, pagerduty, ...
    Column("kind", String(16), nullable=False, server_default="trigger"),  # (0003) see outbox
    Column("recipient", String(200)),  # (0003) whom it is for: person:x, policy:y, team:z
    Column("target", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending, sending, sent, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Time),
    Column("last_error", Text),
    Column("permanent", Boolean, nullable=False, server_default="0"),
    Column("claimed_by", String(200)),
    Column("claimed_at", Time),
    Column("created_at", Time, nullable=False),
    Column("sent_at", Time),
    # (0011) one row per key at most: a subscriber's notice of one update is queued once
    Column("dedup_key", String(200), unique=True),
    Index(None, "status", "next_attempt_at"),
    Index(None, "incident_id"),
)

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    _id(),
    Column("target_ref", String(200), nullable=False),  # service, check or provider
    Column("starts_at", Time, nullable=False),
    Column("ends_at", Time, nullable=False),
    Column("rrule", Text),  # recurring windows (RFC 5545), in `timezone`
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("reason", Text),
    Column("created_by", String(200)),
    Column("created_at", Time, nullable=False),
    # shown on the status page under public_name (docs/status-page.md, "Scheduled maintenance")
    Column("public", Boolean, nullable=False, server_default="0"),
    Column("public_name", String(200)),
    # (0013) subscribers are reminded this long before it starts; null: the default (1 h),
    # 0: no reminder
    Column("remind_before_s", Integer),
    Index(None, "target_ref"),
)

# The status page's operator overrides (docs/status-page.md): a component's state set by a
# person, always with an expiry; a new override of a component ends the previous one.
status_overrides = Table(
    "status_overrides",
    metadata,
    _id(),
    Column("component_ref", String(200), nullable=False),  # service:pypi, provider:fastly
    Column("status", String(32), nullable=False),  # one of Statuspage's five states
    Column("reason", Text, nullable=False),
    Column("created_by", String(200), nullable=False),  # token:NAME, user:NAME
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("ended_at", Time),  # ended early: replaced or deleted
    Column("ended_by", String(200)),
    Index(None, "component_ref", "expires_at"),
)

# The status page's public incidents (docs/status-page.md): a draft made from an internal
# incident that touches public components, published by a person; its updates follow
# investigating → identified → monitoring → resolved. Nothing here is public until published.
public_incidents = Table(
    "public_incidents",
    metadata,
    _id(),
    Column("incident_id", Id, ForeignKey("incidents.id", ondelete="SET NULL"), unique=True),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),  # investigating … resolved, postmortem
    Column("impact", String(16), nullable=False),  # none, minor, major, critical
    Column("components", JSON, nullable=False),  # component refs it affects
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
    Column("published_at", Time),  # null: a draft, seen by signed-in people only
    Column("published_by", String(200)),
    Column("monitoring_at", Time),
    Column("resolved_at", Time),
    # (0013) the postmortem: written by a person after the incident resolved, public once
    # published (postmortem_published_at); its body is plain text
    Column("postmortem_body", Text),
    Column("postmortem_updated_at", Time),
    Column("postmortem_published_at", Time),
    Column("postmortem_by", String(200)),
    Index(None, "published_at"),
)

public_incident_updates = Table(
    "public_incident_updates",
    metadata,
    _id(),
    Column(
        "public_incident_id",
        Id,
        ForeignKey("public_incidents.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("components", JSON, nullable=False),  # component ref → its state in this update
    Column("created_at", Time, nullable=False),
    Column("created_by", String(200), nullable=False),
    Index(None, "public_incident_id"),
)

# The public status page's subscribers (0011; docs/status-page.md, "Subscribers"): an email
# address (double opt-in: confirmed_at stays null until the link in the confirmation mail is
# used) or a webhook URL with its signing secret. Personal data: admins only.
subscribers = Table(
    "subscribers",
    metadata,
    _id(),
    Column("kind", String(16), nullable=False),  # email, webhook
    Column("address", Text, nullable=False),  # the email address or the URL
    Column("address_key", String(64), nullable=False, unique=True),  # sha256 of it, lower-case
    Column("components", JSON, nullable=False),  # component ids; [] means every component
    Column("secret", String(100)),  # a webhook's HMAC key
    Column("nonce", String(64), nullable=False),  # in its signed unsubscribe links
    Column("confirm_nonce", String(64)),  # in its confirmation link, until used
    Column("created_at", Time, nullable=False),
    Column("confirmed_at", Time),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the secret
    Column("scopes", String(100), nullable=False),  # space-separated: read write admin agent
    Column("location", String(63)),  # (0008) an agent token's data center; null otherwise
    Column("created_at", Time, nullable=False),
    Column("created_by", String(200)),
    Column("last_used_at", Time),
    Column("revoked_at", Time),
)

users = Table(
    "users",
    metadata,
    _id(),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2
    Column("is_admin", Boolean, nullable=False, server_default="0"),
    Column("created_at", Time, nullable=False),
    Column("last_login_at", Time),
    Column("disabled_at", Time),
)

store_heartbeat = Table(
    # one row /readyz rewrites: a store that answers reads but cannot commit is not ready
    "store_heartbeat",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", Time, nullable=False),
)
sessions = Table(
    # a signed-in browser: the cookie carries the key, the store only its hash; checked on
    # every request, so signing out, disabling or deleting the user ends it at once
    "sessions",
    metadata,
    _id(),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 of the key
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("last_seen_at", Time, nullable=False),
    Column("revoked_at", Time),
    Column("remote_addr", String(64)),
    Index(None, "user_id"),
)
sign_in_limits = Table(
    # failed sign-ins per key ("source:ADDR", "account:NAME", "pair:NAME ADDR"), with the
    # time the next attempt may be evaluated (exponential backoff, never a hard lock)
    "sign_in_limits",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("blocked_until", Time),
    Column("updated_at", Time, nullable=False),
    Index(None, "updated_at"),
)
audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("at", Time, nullable=False),
    Column("actor", String(200), nullable=False),  # "token:deploy-bot", "user:ee", "cli"
    Column("action", String(64), nullable=False),
    Column("target", String(200)),
    Column("detail", JSON),
    Column("remote_addr", String(64)),
    Index(None, "at"),
)
leases = Table(
    # who may do a job only one server may do (the alerter's turn): the holder, until when,
    # and a fencing token that grows with every change of holder; the holder's writes check
    # the token in their own transaction, so a paused, demoted holder cannot write late
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),  # host:pid:random, per process start
    Column("token", BigInteger, nullable=False),
    Column("acquired_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
)

# (0008) probe agents: a check with `locations` is judged per location, then k of n
location_states = Table(
    # one check as seen from one location (the same columns as check_states); the check's
    # own row in check_states holds the k-of-n verdict over these
    "location_states",
    metadata,
    Column("check_id", String(200), primary_key=True),
    Column("location", String(63), primary_key=True),
    *(Column(name, kind, nullable=nullable) for name, kind, nullable in _STATE_COLUMNS),
)
agents = Table(
    # the probe agent of one location, as the server last heard it
    "agents",
    metadata,
    Column("location", String(63), primary_key=True),
    Column("token_name", String(100), nullable=False),
    Column("version", String(64)),
    Column("first_seen_at", Time, nullable=False),
    Column("last_seen_at", Time, nullable=False),
    Column("clock_offset_ms", Float),  # server clock minus the agent's, at its last heartbeat
    Column("results_total", BigInteger, nullable=False, server_default="0"),  # stored
    Column("refused_total", BigInteger, nullable=False, server_default="0"),
    Column("dropped_total", BigInteger, nullable=False, server_default="0"),  # by its buffer
)
