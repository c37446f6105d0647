"""The base of typed read models: snake_case attributes in Python, camelCase keys on the wire.

A read model is what a read function returns (a check's summary, an incident, a catalog load)
and what the API answers with: the pages and the CLI use its attributes, FastAPI declares it as
the response schema (so ``/openapi.json`` describes it), and a client such as ``infradex
reload`` parses the server's answer back into the same model. The JSON key of each field is
derived from its name in one place, the model.

Times go out as ``datetime.isoformat()`` (``+00:00``, not pydantic's ``Z``), as the API has
always written them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

__all__ = ["Instant", "Number", "ReadModel"]


def _iso(at: datetime) -> str:
    return at.isoformat()


#: a point in time, written as ISO 8601 with its offset
Instant = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]

#: a measurement that may be a whole number: an int stays an int on the wire, a float a float
Number = int | float


class ReadModel(BaseModel):
    """Frozen; built from snake_case names in Python, read back from camelCase JSON."""

    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    def to_json(self) -> dict[str, Any]:
        """The JSON object the API sends (and ``--format json`` prints)."""
        return self.model_dump(mode="json")
