"""Text that requests may carry: Unicode a store and a page can hold.

JSON lets a client send ``\\u0000`` and lone UTF-16 surrogates (``\\ud800``); neither is
text. PostgreSQL refuses NUL in a text column and a lone surrogate cannot be encoded as
UTF-8 for a page or a response, so both once turned into a 500 far from where they came in.
They are refused where they come in, with a 422 saying which field and what to remove.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator

__all__ = ["TextIn", "check_text", "encodable"]


def check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000): remove it")
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise ValueError(
                f"contains a lone UTF-16 surrogate (\\u{ord(char):04x}), which is not text: "
                "send valid Unicode (a surrogate pair encodes one character)"
            )
    return value


#: a ``str`` field of a request body or form that refuses NUL and lone surrogates
TextIn = Annotated[str, AfterValidator(check_text)]


def encodable(value: Any) -> Any:
    """``value`` if it can be sent as UTF-8 JSON, else a note saying it was left out: an
    error must never echo input that cannot be encoded (that raised inside the handler)."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError):
        return "(left out: not valid Unicode text)"
    return value
