"""Visit classification: one table of landing URL + referrer → source, medium, channel."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.sources import (
    CHANNELS,
    MAX_FIELD_LENGTH,
    VisitFacts,
    channel_for,
    classify_visit,
)

SITE = frozenset({"example.com", "example.org"})
L = "https://example.com/pricing"

# (landing url, referrer, source, medium, channel, campaign, keyword)
TABLE = [
    # Direct
    (L, "", "(direct)", "(none)", "direct", None, None),
    ("https://example.com/", "   ", "(direct)", "(none)", "direct", None, None),
    (L, "https://example.com/blog", "(direct)", "(none)", "direct", None, None),
    (L, "https://www.example.com/", "(direct)", "(none)", "direct", None, None),
    (L, "https://shop.example.org/cart", "(direct)", "(none)", "direct", None, None),
    ("https://landing.test/", "https://landing.test/a", "(direct)", "(none)", "direct", None, None),
    (L, "not a url at all", "(direct)", "(none)", "direct", None, None),
    (L, "http://[broken", "(direct)", "(none)", "direct", None, None),
    (L + "?ref=abc", "", "(direct)", "(none)", "direct", None, None),
    (L + "?utm_source=&utm_medium=", "", "(direct)", "(none)", "direct", None, None),
    # UTM tags
    (L + "?utm_source=google&utm_medium=cpc", "", "google", "cpc", "paid_search", None, None),
    (
        L + "?utm_source=Google&utm_medium=CPC&utm_campaign=Spring Sale&utm_term=Plumber",
        "",
        "google",
        "cpc",
        "paid_search",
        "Spring Sale",
        "Plumber",
    ),
    (L + "?utm_source=%20bing%20&utm_medium=ppc", "", "bing", "ppc", "paid_search", None, None),
    (L + "?utm_source=yandex&utm_medium=cpc", "", "yandex", "cpc", "paid_search", None, None),
    (L + "?utm_source=adwords&utm_medium=paid", "", "adwords", "paid", "paid_search", None, None),
    (L + "?utm_source=criteo&utm_medium=cpc", "", "criteo", "cpc", "paid_search", None, None),
    (L + "?utm_source=facebook&utm_medium=cpc", "", "facebook", "cpc", "paid_social", None, None),
    (L + "?utm_source=fb&utm_medium=paid", "", "fb", "paid", "paid_social", None, None),
    (L + "?utm_source=ig&utm_medium=cpc", "", "ig", "cpc", "paid_social", None, None),
    (
        L + "?utm_source=instagram&utm_medium=paid_social",
        "",
        "instagram",
        "paid_social",
        "paid_social",
        None,
        None,
    ),
    (
        L + "?utm_source=partner&utm_medium=paid-social",
        "",
        "partner",
        "paid-social",
        "paid_social",
        None,
        None,
    ),
    (L + "?utm_source=tiktok&utm_medium=cpc", "", "tiktok", "cpc", "paid_social", None, None),
    (
        L + "?utm_source=linkedin&utm_medium=retargeting",
        "",
        "linkedin",
        "retargeting",
        "paid_social",
        None,
        None,
    ),
    (L + "?utm_source=vk&utm_medium=cpm", "", "vk", "cpm", "display", None, None),
    (L + "?utm_source=gdn&utm_medium=display", "", "gdn", "display", "display", None, None),
    (L + "?utm_source=site&utm_medium=banner", "", "site", "banner", "display", None, None),
    (
        L + "?utm_source=facebook&utm_medium=social",
        "",
        "facebook",
        "social",
        "organic_social",
        None,
        None,
    ),
    (L + "?utm_source=blog&utm_medium=sm", "", "blog", "sm", "organic_social", None, None),
    (
        L + "?utm_source=telegram&utm_medium=post",
        "",
        "telegram",
        "post",
        "organic_social",
        None,
        None,
    ),
    (L + "?utm_source=x&utm_medium=tweet", "", "x", "tweet", "organic_social", None, None),
    (
        L + "?utm_source=newsletter&utm_medium=email&utm_campaign=May",
        "",
        "newsletter",
        "email",
        "email",
        "May",
        None,
    ),
    (L + "?utm_source=mailchimp&utm_medium=e-mail", "", "mailchimp", "e-mail", "email", None, None),
    (L + "?utm_source=newsletter", "", "newsletter", "(not set)", "email", None, None),
    (
        L + "?utm_source=google&utm_medium=organic",
        "",
        "google",
        "organic",
        "organic_search",
        None,
        None,
    ),
    (L + "?utm_source=bing", "", "bing", "(not set)", "organic_search", None, None),
    (
        L + "?utm_source=partner.com&utm_medium=referral",
        "",
        "partner.com",
        "referral",
        "referral",
        None,
        None,
    ),
    (L + "?utm_source=app&utm_medium=app", "", "app", "app", "referral", None, None),
    (L + "?utm_source=flyer&utm_medium=offline", "", "flyer", "offline", "other", None, None),
    (L + "?utm_source=qr", "", "qr", "(not set)", "other", None, None),
    (L + "?utm_medium=email", "", "(not set)", "email", "email", None, None),
    (L + "?utm_medium=cpc", "https://www.google.com/", "google", "cpc", "paid_search", None, None),
    (
        L + "?utm_medium=referral",
        "https://blog.partner.io/",
        "blog.partner.io",
        "referral",
        "referral",
        None,
        None,
    ),
    (L + "?UTM_SOURCE=Google&Utm_Medium=CPC", "", "google", "cpc", "paid_search", None, None),
    (
        L + "?utm_source=google&utm_source=bing&utm_medium=cpc",
        "",
        "google",
        "cpc",
        "paid_search",
        None,
        None,
    ),
    (
        L + "?utm_source=newsletter&utm_medium=email",
        "https://www.google.com/",
        "newsletter",
        "email",
        "email",
        None,
        None,
    ),
    (
        L + "?utm_campaign=Summer%20%E2%80%94%20UA",
        "",
        "(direct)",
        "(none)",
        "direct",
        "Summer — UA",
        None,
    ),
    (
        L + "?utm_campaign=brand",
        "https://www.bing.com/search?q=acme",
        "bing",
        "organic",
        "organic_search",
        "brand",
        "acme",
    ),
    (
        L + "?utm_source=yandex&utm_medium=cpc&utm_term=купить+окна",
        "",
        "yandex",
        "cpc",
        "paid_search",
        None,
        "купить окна",
    ),
    # Click ids
    (L + "?gclid=Cj0KCQjw", "", "google", "cpc", "paid_search", None, None),
    (L + "?gbraid=0AAAAADx", "", "google", "cpc", "paid_search", None, None),
    (L + "?wbraid=CjkKCQjw", "", "google", "cpc", "paid_search", None, None),
    (L + "?msclkid=4f9c1b2a", "", "bing", "cpc", "paid_search", None, None),
    (L + "?yclid=1234567890123", "https://yandex.ru/", "yandex", "cpc", "paid_search", None, None),
    (L + "?ttclid=E.C.P.abc", "", "tiktok", "cpc", "paid_social", None, None),
    (L + "?fbclid=IwAR2F4", "", "facebook", "social", "organic_social", None, None),
    (
        L + "?fbclid=IwAR2F4",
        "https://l.facebook.com/",
        "facebook",
        "social",
        "organic_social",
        None,
        None,
    ),
    (
        L + "?fbclid=IwAR2F4",
        "https://l.instagram.com/",
        "instagram",
        "social",
        "organic_social",
        None,
        None,
    ),
    (
        L + "?fbclid=IwAR2F4&utm_source=facebook&utm_medium=paid&utm_campaign=Leads",
        "",
        "facebook",
        "paid",
        "paid_social",
        "Leads",
        None,
    ),
    (L + "?gclid=abc&fbclid=def", "", "google", "cpc", "paid_search", None, None),
    (L + "?gclid=abc", "https://www.youtube.com/", "google", "cpc", "paid_search", None, None),
    (L + "?gclid=abc&utm_source=google", "", "google", "cpc", "paid_search", None, None),
    (L + "?msclkid=x&utm_campaign=spring", "", "bing", "cpc", "paid_search", "spring", None),
    (L + "?gclid=abc&utm_medium=display", "", "google", "display", "display", None, None),
    (L + "?gclid=", "", "(direct)", "(none)", "direct", None, None),
    (L + "?GCLID=Abc", "", "google", "cpc", "paid_search", None, None),
    # Search engines
    (L, "https://www.google.com/", "google", "organic", "organic_search", None, None),
    (L, "https://www.google.co.uk/", "google", "organic", "organic_search", None, None),
    (L, "https://www.google.com.ua/", "google", "organic", "organic_search", None, None),
    (
        L,
        "https://google.de/search?q=Klempner",
        "google",
        "organic",
        "organic_search",
        None,
        "Klempner",
    ),
    (L, "HTTPS://WWW.GOOGLE.FR/", "google", "organic", "organic_search", None, None),
    (
        L,
        "android-app://com.google.android.googlequicksearchbox/",
        "google",
        "organic",
        "organic_search",
        None,
        None,
    ),
    (
        L,
        "https://www.bing.com/search?q=call+tracking",
        "bing",
        "organic",
        "organic_search",
        None,
        "call tracking",
    ),
    (L, "https://cn.bing.com/", "bing", "organic", "organic_search", None, None),
    (
        L,
        "https://yandex.ru/search/?text=пластиковые+окна",
        "yandex",
        "organic",
        "organic_search",
        None,
        "пластиковые окна",
    ),
    (L, "https://yandex.com.tr/", "yandex", "organic", "organic_search", None, None),
    (L, "https://ya.ru/", "yandex", "organic", "organic_search", None, None),
    (L, "https://duckduckgo.com/", "duckduckgo", "organic", "organic_search", None, None),
    (
        L,
        "https://search.yahoo.com/search?p=plumbers",
        "yahoo",
        "organic",
        "organic_search",
        None,
        "plumbers",
    ),
    (L, "https://www.baidu.com/s?wd=test", "baidu", "organic", "organic_search", None, "test"),
    (
        L,
        "https://www.ecosia.org/search?q=trees",
        "ecosia",
        "organic",
        "organic_search",
        None,
        "trees",
    ),
    (
        L,
        "https://search.naver.com/search.naver?query=kimchi",
        "naver",
        "organic",
        "organic_search",
        None,
        "kimchi",
    ),
    (L, "https://search.seznam.cz/?q=okna", "seznam", "organic", "organic_search", None, "okna"),
    (L, "https://search.brave.com/", "brave", "organic", "organic_search", None, None),
    # Social networks
    (L, "https://www.facebook.com/", "facebook", "social", "organic_social", None, None),
    (L, "https://m.facebook.com/story.php", "facebook", "social", "organic_social", None, None),
    (L, "https://lm.facebook.com/l.php?u=x", "facebook", "social", "organic_social", None, None),
    (L, "https://www.instagram.com/", "instagram", "social", "organic_social", None, None),
    (L, "https://t.co/AbCdEf", "twitter", "social", "organic_social", None, None),
    (L, "https://x.com/someone/status/1", "twitter", "social", "organic_social", None, None),
    (L, "https://www.linkedin.com/feed/", "linkedin", "social", "organic_social", None, None),
    (L, "https://lnkd.in/abc", "linkedin", "social", "organic_social", None, None),
    (L, "https://www.youtube.com/watch?v=1", "youtube", "social", "organic_social", None, None),
    (L, "https://www.tiktok.com/", "tiktok", "social", "organic_social", None, None),
    (L, "https://vk.com/wall-1", "vk", "social", "organic_social", None, None),
    (L, "https://ok.ru/group/1", "ok", "social", "organic_social", None, None),
    (L, "https://t.me/channel/12", "telegram", "social", "organic_social", None, None),
    (L, "https://out.reddit.com/t3_x", "reddit", "social", "organic_social", None, None),
    (L, "https://www.pinterest.co.uk/pin/1/", "pinterest", "social", "organic_social", None, None),
    (L, "https://dzen.ru/a/xyz", "dzen", "social", "organic_social", None, None),
    (L, "https://zen.yandex.ru/media/x", "dzen", "social", "organic_social", None, None),
    # Webmail
    (L, "https://mail.google.com/", "gmail", "email", "email", None, None),
    (L, "android-app://com.google.android.gm/", "gmail", "email", "email", None, None),
    (L, "https://outlook.live.com/mail/0/", "outlook", "email", "email", None, None),
    (L, "https://mail.yandex.ru/", "yandex mail", "email", "email", None, None),
    (L, "https://e.mail.ru/inbox/", "mail.ru", "email", "email", None, None),
    (L, "https://mail.ukr.net/desktop", "ukr.net", "email", "email", None, None),
    # Other sites: referral
    (L, "https://blog.partner.io/post/1", "blog.partner.io", "referral", "referral", None, None),
    (L, "https://www.partner.io/", "partner.io", "referral", "referral", None, None),
    (L, "https://Partner.IO:8443/x", "partner.io", "referral", "referral", None, None),
    (L, "https://notgoogle.com/", "notgoogle.com", "referral", "referral", None, None),
    (L, "https://google.com.evil.net/", "google.com.evil.net", "referral", "referral", None, None),
    (
        L,
        "https://example.com.evil.net/",
        "example.com.evil.net",
        "referral",
        "referral",
        None,
        None,
    ),
    (L, "partner.io/page", "partner.io", "referral", "referral", None, None),
    ("/pricing", "https://partner.io/", "partner.io", "referral", "referral", None, None),
]


@pytest.mark.parametrize(
    ("landing_url", "referrer", "source", "medium", "channel", "campaign", "keyword"), TABLE
)
def test_visit_is_classified_by_utm_then_click_id_then_referrer_then_direct(
    landing_url: str,
    referrer: str,
    source: str,
    medium: str,
    channel: str,
    campaign: str | None,
    keyword: str | None,
) -> None:
    result = classify_visit(VisitFacts(landing_url, referrer, SITE))
    assert (result.source, result.medium, result.channel, result.campaign, result.keyword) == (
        source,
        medium,
        channel,
        campaign,
        keyword,
    )


def test_table_has_the_promised_breadth() -> None:
    assert len(TABLE) >= 80
    assert {row[4] for row in TABLE} == set(CHANNELS)


def test_click_ids_and_utm_are_kept_as_found() -> None:
    result = classify_visit(
        VisitFacts(
            L + "?gclid=Cj0KCQ_x-Y&fbclid=IwAR&utm_source=Google&utm_content=Ad%201&x=1",
            site_hosts=SITE,
        )
    )
    assert result.click_ids == {"gclid": "Cj0KCQ_x-Y", "fbclid": "IwAR"}
    assert result.utm == {"utm_source": "Google", "utm_content": "Ad 1"}
    assert result.landing_path == "/pricing"


def test_referrer_host_is_lower_cased_without_www_m_or_port() -> None:
    assert classify_visit(VisitFacts(L, "https://WWW.Partner.io:8080/x")).referrer_host == (
        "partner.io"
    )
    assert classify_visit(VisitFacts(L, "https://m.facebook.com/")).referrer_host == "facebook.com"
    assert classify_visit(VisitFacts(L, "")).referrer_host is None


def test_trace_says_which_layer_decided() -> None:
    utm = classify_visit(VisitFacts(L + "?utm_source=google&utm_medium=cpc", site_hosts=SITE))
    assert utm.trace == (
        "no referrer",
        "utm_source=google, utm_medium=cpc",
        "channel paid_search from google / cpc",
    )
    click = classify_visit(VisitFacts(L + "?gclid=a", "https://www.google.com/", SITE))
    assert "click id gclid: google / cpc" in click.trace
    internal = classify_visit(VisitFacts(L, "https://shop.example.com/", SITE))
    assert "referrer shop.example.com is this site" in internal.trace


def test_fbclid_alone_is_organic_and_the_trace_says_paid_needs_utm() -> None:
    result = classify_visit(VisitFacts(L + "?fbclid=IwAR", site_hosts=SITE))
    assert result.channel == "organic_social"
    assert any("paid only when UTM says so" in step for step in result.trace)


def test_huge_inputs_are_cut_and_the_trace_says_so() -> None:
    landing = L + "?utm_source=google&utm_medium=cpc&pad=" + "x" * 50_000
    result = classify_visit(VisitFacts(landing, "https://partner.io/" + "y" * 50_000, SITE))
    assert (result.source, result.medium) == ("google", "cpc")
    assert len(result.landing_url) == MAX_FIELD_LENGTH
    assert f"landing url cut to {MAX_FIELD_LENGTH} characters" in result.trace
    assert f"referrer cut to {MAX_FIELD_LENGTH} characters" in result.trace


def test_an_unreadable_landing_url_still_classifies_the_referrer() -> None:
    result = classify_visit(VisitFacts("http://[::1", "https://www.bing.com/", SITE))
    assert (result.source, result.channel) == ("bing", "organic_search")
    assert "landing url unreadable, ignored" in result.trace


def test_campaign_keeps_its_case_while_source_and_medium_are_lower_cased() -> None:
    result = classify_visit(
        VisitFacts(L + "?utm_source=FaceBook&utm_medium=Paid&utm_campaign=Black%20Friday")
    )
    assert (result.source, result.medium, result.campaign) == ("facebook", "paid", "Black Friday")


@pytest.mark.parametrize(
    ("source", "medium", "channel"),
    [
        ("(direct)", "(none)", "direct"),
        ("google", "cpc", "paid_search"),
        ("facebook.com", "cpc", "paid_social"),
        ("l.instagram.com", "referral", "organic_social"),
        ("mail.google.com", "referral", "email"),
        ("some.site", "referral", "referral"),
        ("google", "cpm", "display"),
    ],
)
def test_channel_follows_from_source_and_medium(source: str, medium: str, channel: str) -> None:
    assert channel_for(source, medium) == channel


@given(st.text(max_size=3000), st.text(max_size=3000))
def test_any_text_never_raises_and_gives_a_known_channel(landing: str, referrer: str) -> None:
    result = classify_visit(VisitFacts(landing, referrer, SITE))
    assert result.channel in CHANNELS
    assert len(result.landing_url) <= MAX_FIELD_LENGTH


@given(
    st.dictionaries(
        st.sampled_from(["utm_source", "utm_medium", "gclid", "fbclid", "q", "x"]),
        st.text(max_size=50),
    ),
    st.sampled_from(["", "https://www.google.com/", "https://partner.io/", "https://example.com/"]),
)
def test_any_query_never_raises(params: dict[str, str], referrer: str) -> None:
    result = classify_visit(VisitFacts(L + "?" + urlencode(params), referrer, SITE))
    assert result.channel in CHANNELS
