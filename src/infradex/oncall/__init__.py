"""On-call: who is on call when, and where nobody is (pure; time is passed in)."""

from infradex.oncall.schedules import Gap, coverage_gaps, on_call_at

__all__ = ["Gap", "coverage_gaps", "on_call_at"]
