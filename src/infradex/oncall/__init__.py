"""On-call: who is on call when, where nobody is, and who an escalation reaches (pure; time is
passed in)."""

from infradex.oncall.schedules import (
    Gap,
    Shift,
    coverage_gaps,
    next_change,
    on_call_at,
    shifts,
    turn_at,
)

__all__ = ["Gap", "Shift", "coverage_gaps", "next_change", "on_call_at", "shifts", "turn_at"]
