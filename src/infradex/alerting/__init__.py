"""Incidents from check states, escalation through on-call, and notifications through an
outbox (docs/alerting.md)."""
