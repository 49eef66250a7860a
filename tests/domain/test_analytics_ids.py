"""Analytics ids from cookies: each documented format parsed, anything else ignored."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.analytics_ids import (
    AnalyticsIds,
    build_fbc,
    extract_analytics_ids,
    parse_fbc,
    parse_fbp,
    parse_ga4_session_id,
    parse_ga_client_id,
    parse_gac,
    parse_gcl_aw,
    parse_ym_uid,
)

GCLID = "Cj0KCQjw_pixBhCxARIsAIHQ-8pZt2k5YpbG9Vh3N5D0wYzLwKZQ1MkGiNtDV0j9bGm3Qx3MJfUQaAsVnEALw_wcB"
FBCLID = "IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDQgw"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("GA1.1.1987535338.1790184089", "1987535338.1790184089"),
        ("GA1.2.1234567890.1700000000", "1234567890.1700000000"),
        ('"GA1.1.1987535338.1790184089"', "1987535338.1790184089"),
        ("1987535338.1790184089", "1987535338.1790184089"),
        ("GA1.1.abc.1790184089", None),
        ("GA1.1.1987535338", None),
        ("GA2.1.1987535338.1790184089", None),
        ("GA1.1.1987535338.1790184089.5", None),
        ("", None),
    ],
)
def test_ga_client_id_is_the_last_two_parts_of_a_valid_ga_cookie(
    value: str, expected: str | None
) -> None:
    assert parse_ga_client_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("GS1.1.1700000000.5.1.1700001234.0.0.0", "1700000000"),
        ("GS1.1.1715242352.1.0.1715242352.60.0.0", "1715242352"),
        ("GS2.1.s1746357396$o2$g1$t1746357400$j56$l0$h0", "1746357396"),
        ("GS2.1.s1746357396$o1$g0$t1746357396$j60$l0$h1585043466", "1746357396"),
        ("GS2.1.s1746357396", "1746357396"),
        ("GS1.1.1700000000", None),
        ("GS2.1.1746357396$o2", None),
        ("GS3.1.s1746357396$o2", None),
        ("GS2.1.s17463x7396$o2", None),
        ("GS1.1.-1.5.1", None),
        ("", None),
    ],
)
def test_ga4_session_id_is_read_from_the_gs1_and_gs2_formats(
    value: str, expected: str | None
) -> None:
    assert parse_ga4_session_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"GCL.1700000000.{GCLID}", GCLID),
        ("GCL.1700000000.abc.def", None),
        ("GCL.1700000000.", None),
        ("GCL.soon.abc", None),
        (f"GCLX.1700000000.{GCLID}", None),
    ],
)
def test_gclid_is_the_part_after_the_second_dot_of_gcl_aw(value: str, expected: str | None) -> None:
    assert parse_gcl_aw(value) == expected


def test_gclid_is_read_from_a_ua_era_gac_cookie() -> None:
    assert parse_gac(f"1.1700000000.{GCLID}") == GCLID
    assert parse_gac("2.1700000000.x y") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fb.1.1596403881668.1116446470", "fb.1.1596403881668.1116446470"),
        ("fb.2.1700000000000.987654321", "fb.2.1700000000000.987654321"),
        ("fb.1.1596403881668.abc", None),
        ("fb.1.1596403881668", None),
        ("gb.1.1596403881668.1116446470", None),
    ],
)
def test_fbp_is_kept_unchanged_when_it_has_the_documented_shape(
    value: str, expected: str | None
) -> None:
    assert parse_fbp(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"fb.1.1790184000000.{FBCLID}", f"fb.1.1790184000000.{FBCLID}"),
        ("fb.1.1790184000000.", None),
        ("fb.1.1790184000000.has space", None),
        (f"fb.x.1790184000000.{FBCLID}", None),
    ],
)
def test_fbc_is_kept_unchanged_when_it_has_the_documented_shape(
    value: str, expected: str | None
) -> None:
    assert parse_fbc(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1700000000123456789", "1700000000123456789"),
        ("16286782511024452380", "16286782511024452380"),
        ("17000000001234567", "17000000001234567"),
        ("1700000000123", None),
        ("170000000012345678901", None),
        ("17000000001234567a", None),
    ],
)
def test_ym_uid_is_17_to_20_digits(value: str, expected: str | None) -> None:
    assert parse_ym_uid(value) == expected


def test_all_ids_are_extracted_from_a_real_looking_cookie_jar() -> None:
    cookies = {
        "_ga": "GA1.1.1987535338.1790184089",
        "_ga_ABC123XYZ": "GS2.1.s1746357396$o2$g1$t1746357400$j56$l0$h0",
        "_ga_OLD0PROP1": "GS1.1.1700000000.5.1.1700001234.0.0.0",
        "_gcl_aw": f"GCL.1700000000.{GCLID}",
        "_gcl_au": "1.1.1436279452.1790184089",
        "_fbp": "fb.1.1596403881668.1116446470",
        "_fbc": f"fb.1.1790184000000.{FBCLID}",
        "_ym_uid": "1700000000123456789",
        "_ym_d": "1700000000",
        "session": "whatever",
    }
    assert extract_analytics_ids(cookies) == AnalyticsIds(
        ga_client_id="1987535338.1790184089",
        ga_session_ids={"ABC123XYZ": "1746357396", "OLD0PROP1": "1700000000"},
        ym_uid="1700000000123456789",
        fbp="fb.1.1596403881668.1116446470",
        fbc=f"fb.1.1790184000000.{FBCLID}",
        gclid=GCLID,
    )


def test_gclid_from_the_url_wins_over_the_cookie() -> None:
    ids = extract_analytics_ids({"_gcl_aw": "GCL.1700000000.fromcookie"}, {"gclid": "fromurl"})
    assert ids.gclid == "fromurl"


def test_gclid_falls_back_to_gcl_aw_then_gac() -> None:
    assert extract_analytics_ids({"_gcl_aw": "GCL.1.aw", "_gac_UA-1-1": "1.1.gac"}).gclid == "aw"
    assert extract_analytics_ids({"_gac_UA-1-1": "1.1.gac"}).gclid == "gac"
    assert extract_analytics_ids({}, {"gclid": "bad gclid!"}).gclid is None


def test_fbc_is_built_from_the_url_fbclid_when_the_cookie_is_missing() -> None:
    ids = extract_analytics_ids({}, {"fbclid": FBCLID}, now_ms=1790184000000)
    assert ids.fbc == f"fb.1.1790184000000.{FBCLID}"


def test_an_existing_fbc_cookie_is_kept_over_the_url_fbclid() -> None:
    cookie = "fb.1.1600000000000.older"
    ids = extract_analytics_ids({"_fbc": cookie}, {"fbclid": FBCLID}, now_ms=1790184000000)
    assert ids.fbc == cookie


def test_no_fbc_is_built_without_a_time() -> None:
    assert extract_analytics_ids({}, {"fbclid": FBCLID}).fbc is None
    assert build_fbc(FBCLID, 0) is None
    assert build_fbc(None, 1790184000000) is None


def test_malformed_cookies_give_nothing() -> None:
    cookies = {
        "_ga": "GA1.1.nope",
        "_ga_": "GS2.1.s1746357396",
        "_ga_BAD-NAME": "GS2.1.s1746357396",
        "_ga_ABC": "GS9.1.s1",
        "_gcl_aw": "GCL..",
        "_fbp": "fb",
        "_fbc": "fb.1.1.",
        "_ym_uid": "-1",
    }
    assert extract_analytics_ids(cookies) == AnalyticsIds()


def test_oversized_cookie_values_are_not_read() -> None:
    assert parse_ga_client_id("1." + "1" * 5_000) is None


_COOKIE_NAMES = st.sampled_from(
    ["_ga", "_ga_ABC", "_gcl_aw", "_gac_UA-1", "_fbp", "_fbc", "_ym_uid"]
)


@given(st.text())
def test_any_text_never_makes_a_parser_raise(value: str) -> None:
    for parse in (parse_ga_client_id, parse_ga4_session_id, parse_gcl_aw, parse_gac):
        assert parse(value) is None or isinstance(parse(value), str)
    for parse in (parse_fbp, parse_fbc, parse_ym_uid):
        assert parse(value) is None or isinstance(parse(value), str)


@given(
    st.dictionaries(st.one_of(_COOKIE_NAMES, st.text(max_size=20)), st.text(max_size=200)),
    st.dictionaries(st.sampled_from(["gclid", "fbclid", "yclid"]), st.text(max_size=100)),
    st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63)),
)
def test_any_cookie_jar_never_makes_extraction_raise(
    cookies: dict[str, str], click_ids: dict[str, str], now_ms: int | None
) -> None:
    assert isinstance(extract_analytics_ids(cookies, click_ids, now_ms), AnalyticsIds)
