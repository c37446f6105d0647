"""Secrets written as references in the catalog: ``env:NAME`` (the server's environment) or
``file:PATH`` (a file's contents, e.g. a container secret). A leaf (no infradex imports).

A reference is resolved only when it is used (a probe runs, a notifier sends), never stored
resolved, and shown as written (the name, not the value) to whoever may see the catalog.
:func:`url_has_credential` tells a URL written out with a credential in it (lint warns).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "PREFIXES",
    "MissingSecret",
    "credential_parameter",
    "is_reference",
    "resolve",
    "url_has_credential",
]

PREFIXES = ("env:", "file:")
_MAX_FILE = 64 * 1024  # a secret is small; refuse to read a log file by mistake
_CREDENTIAL_PARAMETER = re.compile(r"(token|key|secret|sig|signature|password|auth)", re.I)


class MissingSecret(LookupError):
    """A reference whose variable is unset or whose file cannot be read; says what to do."""


def is_reference(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIXES)


def resolve(value: str, what: str, environ: Mapping[str, str] | None = None) -> str:
    """``env:NAME`` → the variable's value, ``file:PATH`` → the file's contents without the
    trailing newline; anything else as written. ``what`` names the field in the error."""
    if value.startswith("env:"):
        name = value.removeprefix("env:")
        found = (os.environ if environ is None else environ).get(name)
        if not found:
            raise MissingSecret(
                f"{what} is read from ${name}, which is not set on the server; set it"
            )
        return found
    if value.startswith("file:"):
        path = Path(value.removeprefix("file:"))
        try:
            if not path.is_file() or path.stat().st_size > _MAX_FILE:
                raise MissingSecret(
                    f"{what} is read from {path}, which is not a readable file of at most "
                    f"{_MAX_FILE // 1024} KiB; create it on the server"
                )
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise MissingSecret(
                f"{what} is read from {path}, which cannot be read ({exc.strerror}); fix its "
                "permissions or path"
            ) from None
    return value


def credential_parameter(name: str) -> bool:
    """A URL query parameter whose name says it carries a credential (``?token=…``)."""
    return _CREDENTIAL_PARAMETER.search(name) is not None


def url_has_credential(url: str) -> bool:
    """A URL written out (not a reference) with a password in its userinfo or a credential
    in its query: a secret in whatever file holds it."""
    if is_reference(url):
        return False
    parts = urlsplit(url)
    return bool(parts.password) or any(
        credential_parameter(key) for key, _ in parse_qsl(parts.query)
    )
