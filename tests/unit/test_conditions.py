"""The check condition language: parsing (with the errors people see) and evaluation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infradex.conditions import (
    OPERATORS,
    PLACEHOLDERS,
    Condition,
    ConditionError,
    ConditionResult,
    evaluate,
    parse_condition,
)


# ============================================================================ parse
@pytest.mark.parametrize(
    ("text", "placeholder", "argument", "length", "operator", "value"),
    [
        ("[STATUS] == 200", "STATUS", None, False, "==", 200.0),
        ("[STATUS] != 503", "STATUS", None, False, "!=", 503.0),
        ("[RESPONSE_TIME] < 1500", "RESPONSE_TIME", None, False, "<", 1500.0),
        ("[RESPONSE_TIME] <= 1500.5", "RESPONSE_TIME", None, False, "<=", 1500.5),
        ("[STATUS] > 199", "STATUS", None, False, ">", 199.0),
        ("[STATUS] >= 200", "STATUS", None, False, ">=", 200.0),
        ("[BODY] contains 'Python'", "BODY", None, False, "contains", "Python"),
        ('[BODY] contains "two words"', "BODY", None, False, "contains", "two words"),
        ("[BODY] contains Python", "BODY", None, False, "contains", "Python"),
        ("[BODY] == ''", "BODY", None, False, "==", ""),
        (
            "[HEADER:content-type] contains html",
            "HEADER",
            "content-type",
            False,
            "contains",
            "html",
        ),
        ("[CONNECTED] == true", "CONNECTED", None, False, "==", True),
        ("[CONNECTED] == False", "CONNECTED", None, False, "==", False),
        ("[IP] == 192.0.2.1", "IP", None, False, "==", "192.0.2.1"),
        ("[CERTIFICATE_EXPIRATION] > 14d", "CERTIFICATE_EXPIRATION", None, False, ">", 14),
        ("[DNS_RCODE] == NOERROR", "DNS_RCODE", None, False, "==", "NOERROR"),
        ("[DNS_ANSWER] contains 192.0.2.1", "DNS_ANSWER", None, False, "contains", "192.0.2.1"),
        ("len([DNS_ANSWER]) >= 1", "DNS_ANSWER", None, True, ">=", 1.0),
        ("len( [BODY] ) > 0", "BODY", None, True, ">", 0.0),
        ("  [STATUS]==200  ", "STATUS", None, False, "==", 200.0),
    ],
)
def test_parse(
    text: str, placeholder: str, argument: str | None, length: bool, operator: str, value: Any
) -> None:
    condition = parse_condition(text)
    assert condition.placeholder == placeholder
    assert condition.argument == argument
    assert condition.length is length
    assert condition.operator == operator
    if placeholder == "CERTIFICATE_EXPIRATION":
        assert condition.value == timedelta(days=value)
    else:
        assert condition.value == value
        assert type(condition.value) is type(value)
    assert condition.text == text.strip()


def test_matches_compiles_a_regular_expression() -> None:
    condition = parse_condition("[HEADER:Content-Type] matches '^text/html'")
    assert condition.operator == "matches"
    assert condition.value.pattern == "^text/html"
    assert condition.value.search("text/html; charset=utf-8") is not None
    assert condition.argument == "Content-Type"
    assert condition.subject == "[HEADER:Content-Type]"


def test_subject_shows_len() -> None:
    assert parse_condition("len([BODY]) > 0").subject == "len([BODY])"
    assert parse_condition("[STATUS] == 200").subject == "[STATUS]"


def test_every_placeholder_and_operator_is_documented() -> None:
    assert set(PLACEHOLDERS) == {
        "STATUS",
        "RESPONSE_TIME",
        "BODY",
        "HEADER",
        "CONNECTED",
        "IP",
        "CERTIFICATE_EXPIRATION",
        "DNS_RCODE",
        "DNS_ANSWER",
        "UPSTREAM",
        "UPSTREAM_COMPONENT",
    }
    assert set(OPERATORS) == {"==", "!=", "<", "<=", ">", ">=", "contains", "matches"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[STATUS] = 200", "unknown operator '='; did you mean '=='?"),
        ("[STATUS] === 200", "unknown operator '==='; did you mean '=='?"),
        ("[STATUS] !== 200", "unknown operator '!=='; did you mean '!='?"),
        ("[STATUS] <> 200", "unknown operator '<>'; did you mean '!='?"),
        ("[STATUS] => 200", "unknown operator '=>'; did you mean '>='?"),
        ("[STATUS] =< 200", "unknown operator '=<'; did you mean '<='?"),
        ("[STATUS] >>= 200", "unknown operator '>>='"),
        ("len([BODY]) === 2", "unknown operator '==='; did you mean '=='?"),
        ("[BODY] contain 'x'", "unknown operator 'contain'; did you mean 'contains'?"),
        ("[BODY] MATCHES 'x'", "unknown operator 'MATCHES'; did you mean 'matches'?"),
        ("[BODY] equals 'x'", "unknown operator 'equals' (operators: =="),
        ("STATUS == 200", "is not a condition"),
        ("[status] == 200", "is not a condition"),
        ("[STATUS] 200", "is not a condition"),
        ("", "is not a condition"),
        ("len([BODY] > 0", "is not a condition"),
        ("[STATSU] == 200", "unknown placeholder [STATSU]; did you mean [STATUS]?"),
        ("[FOO] == 1", "unknown placeholder [FOO] (known: [STATUS], [RESPONSE_TIME]"),
        ("[HEADER] == x", "[HEADER:name] needs a header name, e.g. [HEADER:content-type]"),
        (
            "[UPSTREAM_COMPONENT] == operational",
            "[UPSTREAM_COMPONENT:name] needs a component's name, "
            "e.g. [UPSTREAM_COMPONENT:North America]",
        ),
        ("[UPSTREAM:eu] == none", "[UPSTREAM] takes no argument"),
        ("[STATUS:x] == 1", "[STATUS] takes no argument"),
        ("[BODY] < 3", "< compares numbers; [BODY] is text, use == != contains"),
        ("[CONNECTED] >= 1", ">= compares numbers; [CONNECTED] is bool"),
        ("[STATUS] contains 2", "contains works on text and lists; [STATUS] is number"),
        ("[STATUS] matches 2", "matches works on text; [STATUS] is number"),
        ("[DNS_ANSWER] matches x", "matches works on text; [DNS_ANSWER] is list"),
        ("[BODY] matches '('", "'(' is not a valid regular expression"),
        ("[STATUS] == abc", "'abc' is not a number"),
        ("[CERTIFICATE_EXPIRATION] > 14", "'14' is not a duration"),
        ("[CONNECTED] == yes", "'yes' is not true or false"),
        ("[STATUS] ==", "nothing to compare with after the operator"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert message in str(info.value)


@pytest.mark.parametrize("value", [None, 200, ["[STATUS] == 200"]])
def test_parse_rejects_non_text(value: Any) -> None:
    with pytest.raises(ConditionError, match=r'a condition is text such as "\[STATUS\] == 200"'):
        parse_condition(value)


def test_condition_error_is_a_value_error() -> None:
    assert issubclass(ConditionError, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[BODY] matches a{1001}", id="huge-repeat"),
        pytest.param("[BODY] matches (((a{100}){100}){100})", id="huge-program"),
        pytest.param("[CERTIFICATE_EXPIRATION] > 1000000000d", id="huge-duration"),
    ],
)
def test_parse_raises_only_condition_error_on_pathological_values(text: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_matches_cannot_backtrack_catastrophically() -> None:
    # Python's re would take about 2**60 steps here (ages, not a slow test): RE2 is linear
    condition = parse_condition("[BODY] matches '^(a+)+$'")
    result = evaluate(condition, {"BODY": "a" * 60 + "!"})
    assert result.success is False
    assert evaluate(condition, {"BODY": "a" * 60}).success is True


@pytest.mark.parametrize("pattern", ["(?=x)y", "(?<!x)y", "(a)\\1"])
def test_matches_refuses_what_re2_cannot_do_and_says_why(pattern: str) -> None:
    with pytest.raises(ConditionError, match=r"linear time.*without backreferences or lookaround"):
        parse_condition(f"[BODY] matches '{pattern}'")


def test_len_is_only_for_text_and_lists() -> None:
    for text in ("len([STATUS]) > 1", "len([CONNECTED]) == 1"):
        try:
            parse_condition(text)
        except ConditionError:
            continue
        raise AssertionError(f"{text!r} was accepted")


# ============================================================================ evaluate
@pytest.mark.parametrize(
    ("text", "values", "success", "actual"),
    [
        ("[STATUS] == 200", {"STATUS": 200}, True, "200"),
        ("[STATUS] == 200", {"STATUS": 503}, False, "503"),
        ("[STATUS] != 200", {"STATUS": 503}, True, "503"),
        ("[STATUS] < 400", {"STATUS": 301}, True, "301"),
        ("[STATUS] < 400", {"STATUS": 400}, False, "400"),
        ("[STATUS] <= 400", {"STATUS": 400}, True, "400"),
        ("[RESPONSE_TIME] > 1500", {"RESPONSE_TIME": 1500.5}, True, "1500.5"),
        ("[RESPONSE_TIME] >= 1500", {"RESPONSE_TIME": 1499}, False, "1499"),
        (
            "[BODY] contains 'Python'",
            {"BODY": "Welcome to Python.org"},
            True,
            "a 21-character body",
        ),
        ("[BODY] contains 'Python'", {"BODY": "python"}, False, "a 6-character body"),
        ("[BODY] == 'ok'", {"BODY": "ok"}, True, "a 2-character body"),
        ("[BODY] matches '^<!doctype html>'", {"BODY": "<!doctype html><p>"}, True, None),
        ("[BODY] matches 'v\\d+\\.\\d+'", {"BODY": "release v3.12 out"}, True, None),
        ("[BODY] matches '^v\\d'", {"BODY": "release v3"}, False, None),
        ("[HEADER:Content-Type] contains html", {"HEADER:content-type": "text/html"}, True, None),
        (
            "[HEADER:server] == nginx",
            {"HEADER:server": "nginx"},
            True,
            "a 5-character header value",
        ),
        ("[CONNECTED] == true", {"CONNECTED": True}, True, "True"),
        ("[CONNECTED] == true", {"CONNECTED": False}, False, "False"),
        ("[IP] == 192.0.2.1", {"IP": "192.0.2.1"}, True, "'192.0.2.1'"),
        ("[DNS_RCODE] != NXDOMAIN", {"DNS_RCODE": "NOERROR"}, True, "'NOERROR'"),
        ("[DNS_ANSWER] contains 192.0.2.1", {"DNS_ANSWER": ["192.0.2.1", "192.0.2.2"]}, True, None),
        ("[DNS_ANSWER] contains 192.0.2.9", {"DNS_ANSWER": ["192.0.2.1"]}, False, None),
        ("len([DNS_ANSWER]) >= 2", {"DNS_ANSWER": ["a", "b"]}, True, "2"),
        ("len([DNS_ANSWER]) >= 2", {"DNS_ANSWER": []}, False, "0"),
        ("len([BODY]) > 0", {"BODY": ""}, False, "0"),
        (
            "[CERTIFICATE_EXPIRATION] > 14d",
            {"CERTIFICATE_EXPIRATION": timedelta(days=30)},
            True,
            "30.0d",
        ),
        (
            "[CERTIFICATE_EXPIRATION] > 14d",
            {"CERTIFICATE_EXPIRATION": timedelta(days=3)},
            False,
            "3.0d",
        ),
        # a number of seconds is read as a duration
        ("[CERTIFICATE_EXPIRATION] > 14d", {"CERTIFICATE_EXPIRATION": 15 * 86400}, True, "15.0d"),
    ],
)
def test_evaluate(text: str, values: dict[str, Any], success: bool, actual: str | None) -> None:
    result = evaluate(parse_condition(text), values)
    assert isinstance(result, ConditionResult)
    assert result.condition == text
    assert result.success is success
    if actual is not None:
        assert result.actual == actual


@pytest.mark.parametrize("values", [{}, {"STATUS": None}, {"BODY": "x"}])
def test_a_missing_value_fails(values: dict[str, Any]) -> None:
    result = evaluate(parse_condition("[STATUS] == 200"), values)
    assert (result.success, result.actual) == (False, "no value")
    assert str(result) == "[STATUS] == 200: got no value"


def test_result_text() -> None:
    ok = evaluate(parse_condition("[STATUS] == 200"), {"STATUS": 200})
    bad = evaluate(parse_condition("[STATUS] == 200"), {"STATUS": 503})
    assert str(ok) == "[STATUS] == 200: ok 200"
    assert str(bad) == "[STATUS] == 200: got 503"


def test_bodies_are_never_in_the_verdict_only_in_a_shortened_excerpt() -> None:
    result = evaluate(parse_condition("[BODY] contains 'needle'"), {"BODY": "x" * 100})
    assert result.success is False
    assert result.actual == "a 100-character body"  # published: says nothing of the content
    assert result.excerpt == repr("x" * 57 + "...")  # admins only


def test_header_names_are_matched_case_insensitively() -> None:
    condition = parse_condition("[HEADER:X-Served-By] contains cache")
    assert evaluate(condition, {"HEADER:x-served-by": "cache-ams"}).success is True
    assert evaluate(condition, {"HEADER:X-Served-By": "cache-ams"}).success is False


# ============================================================================ properties
@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_parse_raises_only_condition_error_on_random_text(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionError as exc:
        assert str(exc)
        return
    assert isinstance(condition, Condition)
    assert condition.placeholder in PLACEHOLDERS


structured = st.builds(
    lambda use_len, name, arg, op, value: (
        ("len(" if use_len else "") + f"[{name}{arg}]" + (")" if use_len else "") + f" {op} {value}"
    ),
    st.booleans(),
    st.sampled_from([*PLACEHOLDERS, "STATSU", "X"]),
    st.sampled_from(["", ":content-type", ":"]),
    st.sampled_from(OPERATORS),
    st.one_of(
        st.text(max_size=12),
        st.integers(min_value=-(10**6), max_value=10**6).map(str),
        st.sampled_from(["14d", "30s", "true", "'a b'", "^x$", "(", "[", "1.5"]),
    ),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(structured)
def test_parse_raises_only_condition_error_on_condition_shaped_text(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionError:
        return
    assert condition.operator in OPERATORS
    assert condition.placeholder in PLACEHOLDERS
    assert condition.text == text.strip()
