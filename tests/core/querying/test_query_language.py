"""The query language: each key, negation, repetition, quoting, dates, errors, round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditviewer.core.errors import QueryError
from auditviewer.core.querying.filter import Filter
from auditviewer.core.querying.language import format_query, parse_moment, parse_query


def _micros(*parts: int, tz: object = UTC) -> int:
    return int(datetime(*parts, tzinfo=tz).timestamp() * 1_000_000)  # type: ignore[arg-type,misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("action:cohort.*", Filter(actions=("cohort.*",))),
        ("actor:jane@example.com", Filter(actors=("jane@example.com",))),
        ("actor-type:token", Filter(actor_types=("token",))),
        ("actor-type:organization_auth_token", Filter(actor_types=("token",))),
        ("project:smart-sensor", Filter(projects=("smart-sensor",))),
        ("entity:release", Filter(entities=("release",))),
        ("conflicts:yes", Filter(conflicts=True)),
        ("quarantined:no", Filter(quarantined=False)),
        ("unknown:yes", Filter(unknown_action=True)),
        ("anomaly:true", Filter(anomalies=True)),
        ("source:3", Filter(sources=(3,))),
        ("seq:1042", Filter(seqs=(1042,))),
        ("bare words", Filter(text=("bare", "words"))),
        ('"free text"', Filter(text=("free text",))),
    ],
)
def test_each_key_fills_its_field(text: str, expected: Filter) -> None:
    assert parse_query(text) == expected


def test_negation_fills_the_negated_field() -> None:
    parsed = parse_query('-action:release.update -actor:bot -actor-type:user -project:p '
                         '-entity:cohort -word -"a phrase"')  # fmt: skip
    assert parsed == Filter(
        not_actions=("release.update",), not_actors=("bot",), not_actor_types=("user",),
        not_projects=("p",), not_entities=("cohort",), not_text=("word", "a phrase"),
    )  # fmt: skip


def test_negated_yes_no_key_inverts_it() -> None:
    assert parse_query("-conflicts:yes") == Filter(conflicts=False)


def test_repeated_keys_collect_alternatives_in_order() -> None:
    parsed = parse_query("action:b action:a project:x action:c")
    assert parsed.actions == ("b", "a", "c")
    assert parsed.projects == ("x",)


def test_full_example_from_the_brief() -> None:
    parsed = parse_query(
        "action:cohort.* actor:jane@example.com project:smart-sensor after:2024-09-01 "
        'before:2024-10-01 -action:release.update "free text"'
    )
    assert parsed == Filter(
        actions=("cohort.*",), not_actions=("release.update",), actors=("jane@example.com",),
        projects=("smart-sensor",), after=_micros(2024, 9, 1), before=_micros(2024, 10, 1),
        text=("free text",),
    )  # fmt: skip


def test_quoted_values_keep_spaces_quotes_and_backslashes() -> None:
    parsed = parse_query(r'actor:"Jane Doe" project:"a \"b\" \\c" "x:y"')
    assert parsed == Filter(actors=("Jane Doe",), projects=('a "b" \\c',), text=("x:y",))


def test_keys_are_case_insensitive_and_have_aliases() -> None:
    assert parse_query("ACTION:x actor_type:bot anomalies:no") == Filter(
        actions=("x",), actor_types=("token",), anomalies=False
    )


def test_text_with_colon_after_a_non_word_is_text() -> None:
    assert parse_query("12:30 2001:db8::1").text == ("12:30", "2001:db8::1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-09-01", _micros(2024, 9, 1)),
        ("2024-09-01T12:30:00", _micros(2024, 9, 1, 12, 30)),
        ("2024-09-01T12:30:00Z", _micros(2024, 9, 1, 12, 30)),
        ("2024-09-01T14:30:00+02:00", _micros(2024, 9, 1, 12, 30)),
        ("2024-09-01T12:30:00.000001+00:00", _micros(2024, 9, 1, 12, 30) + 1),
        ("1969-12-31T23:59:59.999999Z", -1),
    ],
)
def test_dates_are_utc_unless_an_offset_is_given(value: str, expected: int) -> None:
    assert parse_query(f"after:{value}").after == expected


def test_before_a_date_means_before_its_midnight_utc() -> None:
    assert parse_query("before:2024-10-01").before == _micros(2024, 10, 1)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("action:x colour:red", 9, "unknown key"),
        ("action:x -colour:red", 10, "unknown key"),
        ("after:2024-13-01", 6, "not a date"),
        ("project:p after:yesterday", 16, "not a date"),
        ('action:x "unterminated', 9, "unterminated quote"),
        ('actor:"Jane', 6, "unterminated quote"),
        ("action:", 7, "needs a value"),
        ("actor: x", 6, "needs a value"),
        ('actor:""', 6, "empty quotes"),
        ("conflicts:maybe", 10, "expects yes or no"),
        ("source:abc", 7, "expects a number"),
        ("-after:2024-01-01", 0, "cannot be negated"),
        ("-source:1", 0, "cannot be negated"),
        ("after:2024-01-01 after:2024-02-01", 17, "only once"),
        ("actor-type:robot", 11, "actor-type"),
        ("a - b", 2, "'-' must be followed"),
        ('"a"b', 3, "space after the closing quote"),
    ],
)
def test_malformed_query_points_at_the_bad_token(text: str, position: int, reason: str) -> None:
    with pytest.raises(QueryError, match=reason) as caught:
        parse_query(text)
    assert caught.value.position == position
    assert caught.value.query == text
    assert caught.value.pointer().splitlines()[1] == " " * position + "^"


@pytest.mark.parametrize(
    "text",
    [
        "source:9223372036854775808",
        "seq:" + "9" * 4301,
        "seq:0",
        "source:000",
        "seq:" + "0" * 5000 + "9223372036854775808",
    ],
)
def test_numbers_outside_what_a_store_can_hold_are_refused(text: str) -> None:
    key = text.split(":")[0]
    with pytest.raises(QueryError, match=f"{key} must be a whole number between 1 and ") as caught:
        parse_query(text)
    assert caught.value.position == len(key) + 1
    assert len(str(caught.value)) < 200


def test_the_largest_number_and_leading_zeros_are_accepted() -> None:
    assert parse_query("seq:9223372036854775807 source:007").seqs == (2**63 - 1,)
    assert parse_query("source:007").sources == (7,)


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "0001-01-01T00:00+23:59"]
)
def test_moments_outside_the_years_1_to_9999_utc_are_refused(value: str) -> None:
    with pytest.raises(QueryError, match="outside the years 1 to 9999"):
        parse_query(f"after:{value}")


def test_a_long_bad_value_is_shortened_in_the_message() -> None:
    with pytest.raises(QueryError, match="expects yes or no") as caught:
        parse_query("conflicts:" + "x" * 100_000)
    assert len(str(caught.value)) < 200


def test_empty_and_blank_queries_are_the_empty_filter() -> None:
    assert parse_query("").is_empty
    assert parse_query(" \t\n ").is_empty
    assert not parse_query("x").is_empty


def test_hostile_text_is_kept_verbatim() -> None:
    parsed = parse_query(r'"NEAR(a b) AND \"x\" OR *" % _ * NEAR( AND')
    assert parsed.text == ('NEAR(a b) AND "x" OR *', "%", "_", "*", "NEAR(", "AND")


def test_format_writes_the_canonical_form() -> None:
    flt = Filter(
        actions=("cohort.*",), not_actors=("Jane Doe",), after=_micros(2024, 9, 1),
        before=_micros(2024, 9, 1, 12), text=("a b",), conflicts=True, sources=(3,),
    )  # fmt: skip
    assert format_query(flt) == (
        'action:cohort.* -actor:"Jane Doe" after:2024-09-01 before:2024-09-01T12:00:00Z '
        '"a b" conflicts:yes source:3'
    )


def test_format_refuses_what_the_language_cannot_express() -> None:
    with pytest.raises(ValueError, match="empty"):
        format_query(Filter(actions=("",)))
    with pytest.raises(ValueError, match="actor type"):
        format_query(Filter(actor_types=("robot",)))


_values = st.lists(st.text(min_size=1, max_size=12), max_size=3).map(tuple)
_types = st.lists(st.sampled_from(["user", "token", "unknown"]), max_size=2).map(tuple)
_moment = st.one_of(
    st.none(),
    st.integers(min_value=-62_135_596_800_000_000, max_value=253_402_300_799_999_999),
    st.integers(min_value=-10_000, max_value=30_000).map(lambda d: d * 86_400_000_000),
)
_flag = st.one_of(st.none(), st.booleans())
_numbers = st.lists(st.integers(min_value=1, max_value=2**63 - 1), max_size=3).map(tuple)

filters = st.builds(
    Filter,
    actions=_values, not_actions=_values, actors=_values, not_actors=_values,
    actor_types=_types, not_actor_types=_types, projects=_values, not_projects=_values,
    entities=_values, not_entities=_values, after=_moment, before=_moment, text=_values,
    not_text=_values, conflicts=_flag, quarantined=_flag, unknown_action=_flag,
    anomalies=_flag, sources=_numbers, seqs=_numbers,
)  # fmt: skip


@given(filters)
def test_format_then_parse_gives_the_same_filter(flt: Filter) -> None:
    assert parse_query(format_query(flt)) == flt


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_query_error(text: str) -> None:
    error: QueryError | None = None
    try:
        parsed = parse_query(text)
    except QueryError as exc:
        error = exc
    if error is not None:
        assert 0 <= error.position <= len(text)
    else:
        assert parse_query(format_query(parsed)) == parsed


def test_parse_moment_reads_plain_dates() -> None:
    assert parse_moment("1970-01-02") == 86_400_000_000


@pytest.mark.parametrize(
    ("text", "position", "character"),
    [
        ("action:(", 7, "'('"),
        ("action:cohort.create)", 20, "')'"),
        ('-action:release"', 15, "'\"'"),
        ("project:[gateway]", 8, "'['"),
        ("entity:release.x", 14, "'.'"),
        ("entity-id:<42>", 10, "'<'"),
        ("actor:{jane}", 6, "'{'"),
        ("x action:cohort.* actor:jane@example.com project:a(b", 50, "'('"),
    ],
)
def test_a_value_its_field_never_holds_is_an_error_at_the_character(
    text: str, position: int, character: str
) -> None:
    with pytest.raises(QueryError, match="cannot be part of") as caught:
        parse_query(text)
    assert caught.value.position == position
    assert character in caught.value.reason
    assert "quote the value" in caught.value.reason


def test_values_shaped_like_the_vendors_are_accepted_unquoted() -> None:
    parsed = parse_query(
        "action:release_activation.create actor:jane.doe+ci@example.com actor:O'Brien "
        "project:smart-sensor_2 entity:organization_auth_token entity-id:9f2c-01 action:*_token.*"
    )
    assert parsed.actions == ("release_activation.create", "*_token.*")
    assert parsed.actors == ("jane.doe+ci@example.com", "O'Brien")
    assert parsed.projects == ("smart-sensor_2",)
    assert parsed.entity_ids == ("9f2c-01",)


def test_a_quoted_value_is_literal_and_an_odd_value_is_written_quoted() -> None:
    flt = Filter(actions=("<img>",), projects=("a(b",))
    assert format_query(flt) == 'action:"<img>" project:"a(b"'
    assert parse_query(format_query(flt)) == flt
