"""The check condition language, parsed without ``eval``.

A condition compares one placeholder (optionally wrapped in ``len(...)``) with a literal::

    [STATUS] == 200
    [RESPONSE_TIME] < 1500             # milliseconds
    [BODY] contains 'Python'
    [HEADER:content-type] matches '^text/html'
    [CERTIFICATE_EXPIRATION] > 14d
    len([DNS_ANSWER]) >= 1

Parsing happens when the catalog is validated, so a typo is reported with its file and line
long before a probe runs. Evaluation reports the actual value next to the verdict
("[STATUS] == 200: got 503").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import re2  # type: ignore[import-untyped]

from infradex.durations import DurationError, parse_duration

__all__ = [
    "DEFAULT_CONDITIONS",
    "OPERATORS",
    "PLACEHOLDERS",
    "Condition",
    "ConditionError",
    "ConditionResult",
    "conditions_or_default",
    "evaluate",
    "parse_condition",
]

#: placeholder → the type of its value (what a probe reports for it)
PLACEHOLDERS: dict[str, str] = {
    "STATUS": "number",
    "RESPONSE_TIME": "number",
    "BODY": "text",
    "HEADER": "text",
    "CONNECTED": "bool",
    "IP": "text",
    "CERTIFICATE_EXPIRATION": "duration",
    "DNS_RCODE": "text",
    "DNS_ANSWER": "list",
    "UPSTREAM": "text",
    "UPSTREAM_COMPONENT": "text",
}
#: placeholders that name one of several values: what the argument is, and an example
_ARGUMENT = {
    "HEADER": ("a header name", "[HEADER:content-type]"),
    "UPSTREAM_COMPONENT": ("a component's name", "[UPSTREAM_COMPONENT:North America]"),
}
#: placeholders whose value is text the target sent: never shown in ``actual``
_RESPONSE_TEXT = frozenset({"BODY", "HEADER"})
OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "contains", "matches")

#: what "working" means for a check that lists no conditions, by URL scheme
DEFAULT_CONDITIONS: dict[str, tuple[str, ...]] = {
    "http": ("[STATUS] < 400",),
    "https": ("[STATUS] < 400",),
    "tcp": ("[CONNECTED] == true",),
    "dns": ("[DNS_RCODE] == NOERROR",),
    "tls": ("[CERTIFICATE_EXPIRATION] > 0s",),
    # a provider's own page: down when it says major or critical (minor: a POP somewhere)
    "statuspage": ("[UPSTREAM] != major", "[UPSTREAM] != critical"),
}


def conditions_or_default(url: str, conditions: list[str] | tuple[str, ...]) -> list[str]:
    """The check's conditions, or its probe's default when it lists none."""
    return list(conditions) or list(DEFAULT_CONDITIONS.get(url.partition(":")[0].lower(), ()))


_ORDERING = {"<", "<=", ">", ">="}

_SYNTAX = re.compile(
    r"""^\s*
    (?P<len>len\(\s*)?
    \[(?P<name>[A-Z_]+)(?::(?P<arg>[^\]]+))?\]
    (?(len)\s*\))
    \s*(?P<op>==|!=|<=|>=|<|>|contains\b|matches\b)\s*
    (?P<value>.*?)\s*$""",
    re.VERBOSE,
)


#: the operator as written: the symbols or the word right after the placeholder
_WRITTEN_OPERATOR = re.compile(r"^\s*(?:len\(\s*)?\[[^\]]*\](?:\s*\))?\s*([=!<>]+|[A-Za-z_]+)")
#: operators people bring from other languages, and the one they mean here
_OPERATOR_MEANT = {"=": "==", "===": "==", "!==": "!=", "<>": "!=", "=>": ">=", "=<": "<="}


class ConditionError(ValueError):
    """A condition that does not parse; the message says how to write it."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One parsed condition."""

    text: str
    placeholder: str
    argument: str | None
    length: bool
    operator: str
    value: Any

    @property
    def subject(self) -> str:
        """The left-hand side as written, e.g. ``len([BODY])``."""
        inner = f"[{self.placeholder}{':' + self.argument if self.argument else ''}]"
        return f"len({inner})" if self.length else inner


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """The verdict on one condition, with the value that decided it."""

    condition: str
    success: bool
    actual: str
    #: the text that decided it, for a body or header: shown to admins only, never in
    #: ``actual`` (published: a check aimed at an internal page must not relay its content)
    excerpt: str | None = None

    def __str__(self) -> str:
        return f"{self.condition}: {'ok' if self.success else 'got'} {self.actual}"


#: what Python's re has and RE2 refuses: lookaround and backreferences
_PERL_ONLY = re.compile(r"\(\?<?[=!]|\\[1-9]")


def _regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2, which matches in time linear in the text: a catalog's
    pattern cannot backtrack for minutes on a large response body (``(a+)+$``), at the price
    of backreferences and lookaround, which RE2 refuses."""
    options = re2.Options()
    options.log_errors = False  # the error is ours to report, with file:line
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args else type(exc).__name__
        hint = (
            "; infradex matches in linear time (RE2), without backreferences or lookaround"
            if _PERL_ONLY.search(pattern)
            else ""
        )
        raise ConditionError(
            f"{pattern!r} is not a valid regular expression: {reason}{hint}"
        ) from None


def _literal(raw: str, kind: str, operator: str) -> Any:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        text: Any = raw[1:-1]
    elif raw == "":
        raise ConditionError("nothing to compare with after the operator")
    else:
        text = raw
    if operator == "matches":
        return _regex(str(text))
    if kind == "number":
        try:
            return float(text)
        except ValueError as exc:
            raise ConditionError(f"{raw!r} is not a number") from exc
    if kind == "duration":
        try:
            return parse_duration(text)
        except DurationError as exc:
            raise ConditionError(str(exc)) from exc
    if kind == "bool":
        if str(text).lower() in ("true", "false"):
            return str(text).lower() == "true"
        raise ConditionError(f"{raw!r} is not true or false")
    return str(text)


def _check_operator(text: str) -> None:
    """Name an unknown operator as written (``===``), rather than reading ``[STATUS] === 200``
    as ``==`` followed by the value ``= 200``."""
    written = _WRITTEN_OPERATOR.match(text)
    if written is None or written[1] in OPERATORS:
        return
    operator = written[1]
    meant = _OPERATOR_MEANT.get(operator)
    if meant is None and operator.lower() in OPERATORS:
        meant = operator.lower()
    if meant is None:
        import difflib

        close = difflib.get_close_matches(operator, OPERATORS, n=1, cutoff=0.7)
        meant = close[0] if close else None
    hint = f"; did you mean {meant!r}?" if meant else ""
    raise ConditionError(
        f"unknown operator {operator!r}{hint} (operators: " + " ".join(OPERATORS) + ")"
    )


def parse_condition(text: str) -> Condition:
    """Parse one condition or raise :class:`ConditionError` saying what to write instead."""
    if not isinstance(text, str):
        raise ConditionError(f'a condition is text such as "[STATUS] == 200", not {text!r}')
    _check_operator(text)
    match = _SYNTAX.match(text)
    if not match:
        raise ConditionError(
            f"{text!r} is not a condition; write [PLACEHOLDER] OPERATOR VALUE, "
            'e.g. "[STATUS] == 200" (operators: ' + " ".join(OPERATORS) + ")"
        )
    name, arg, op = match["name"], match["arg"], match["op"]
    if name not in PLACEHOLDERS:
        import difflib

        close = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
        hint = f"; did you mean [{close[0]}]?" if close else ""
        raise ConditionError(
            f"unknown placeholder [{name}]{hint} (known: "
            + ", ".join(f"[{p}]" for p in PLACEHOLDERS)
            + ")"
        )
    if (name in _ARGUMENT) != (arg is not None):
        raise ConditionError(
            f"[{name}:name] needs {_ARGUMENT[name][0]}, e.g. {_ARGUMENT[name][1]}"
            if name in _ARGUMENT
            else f"[{name}] takes no argument"
        )
    length = bool(match["len"])
    if length and PLACEHOLDERS[name] not in ("text", "list"):
        raise ConditionError(f"len() measures text or lists; [{name}] is {PLACEHOLDERS[name]}")
    kind = "number" if length else PLACEHOLDERS[name]
    if op in _ORDERING and kind not in ("number", "duration"):
        raise ConditionError(f"{op} compares numbers; [{name}] is {kind}, use == != contains")
    if op == "contains" and kind not in ("text", "list"):
        raise ConditionError(f"contains works on text and lists; [{name}] is {kind}")
    if op == "matches" and kind != "text":
        raise ConditionError(f"matches works on text; [{name}] is {kind}")
    value = _literal(match["value"], kind, op)
    return Condition(text.strip(), name, arg, length, op, value)


def _show(value: Any) -> str:
    if isinstance(value, timedelta):
        return f"{value.total_seconds() / 86400:.1f}d"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:57] + "...")
    return repr(value) if isinstance(value, str) else str(value)


def evaluate(condition: Condition, values: Mapping[str, Any]) -> ConditionResult:
    """Judge one condition against a probe's values (keys are placeholder names; headers go
    under ``HEADER:<lower-case name>``, components under ``UPSTREAM_COMPONENT:<lower-case
    name>``). A missing value fails the condition."""
    key = condition.placeholder
    if condition.argument:
        key += ":" + " ".join(condition.argument.split()).lower()
    if key not in values or values[key] is None:
        return ConditionResult(condition.text, False, "no value")
    actual = values[key]
    if condition.length:
        actual = len(actual)
    if isinstance(actual, bool) or isinstance(condition.value, bool):
        left: Any = actual
    elif isinstance(condition.value, float):
        left = float(actual)
    elif isinstance(condition.value, timedelta) and not isinstance(actual, timedelta):
        left = timedelta(seconds=float(actual))
    else:
        left = actual
    right = condition.value
    op = condition.operator
    if op == "==":
        ok = left == right
    elif op == "!=":
        ok = left != right
    elif op == "<":
        ok = left < right
    elif op == "<=":
        ok = left <= right
    elif op == ">":
        ok = left > right
    elif op == ">=":
        ok = left >= right
    elif op == "contains":
        ok = right in left if isinstance(left, str) else any(right == str(v) for v in left)
    else:
        ok = right.search(str(left)) is not None
    if isinstance(left, str) and condition.placeholder in _RESPONSE_TEXT:
        what = "body" if condition.placeholder == "BODY" else "header value"
        return ConditionResult(
            condition.text, bool(ok), f"a {len(left)}-character {what}", _show(left)
        )
    return ConditionResult(condition.text, bool(ok), _show(left))
