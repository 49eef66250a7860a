"""Bot signals besides the User-Agent: the owner's lists, data centres, and behaviour."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from ringtrail.domain.bot_policy import (
    MAX_ENTRIES,
    BadEntry,
    BotPolicy,
    check_entries,
    parse_address,
    parse_policy,
    policy_to_json,
)
from ringtrail.domain.datacentres import datacentre_of
from ringtrail.services.bot_signals import (
    BUSY_ADDRESS_VISITORS,
    NO_HEARTBEAT_VIEWS,
    NO_STORAGE_VIEWS,
    BotSignals,
    MemoryWindowCounter,
    RedisWindowCounter,
    VisitSignals,
    WindowCounter,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


@pytest.fixture(params=["memory", "redis"])
def counter(request: pytest.FixtureRequest, redis_url: str) -> Iterator[WindowCounter]:
    if request.param == "memory":
        yield MemoryWindowCounter()
        return
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:bots:{uuid.uuid4().hex}"
    yield RedisWindowCounter(client, prefix=prefix)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def start(
    visitor: str | None = None,
    *,
    address: str = "198.51.100.7",
    agent: str = CHROME,
    kept_nothing: bool = False,
    pool_view: bool = True,
) -> VisitSignals:
    return VisitSignals(1, agent, address, f"h-{address}", visitor, kept_nothing, pool_view)


def test_a_client_that_keeps_nothing_is_suspected_on_its_third_page_view(
    counter: WindowCounter,
) -> None:
    signals, policy = BotSignals(counter), BotPolicy()
    verdicts = [
        signals.verdict(policy, start(kept_nothing=True), NOW + timedelta(seconds=i))
        for i in range(NO_STORAGE_VIEWS)
    ]
    assert verdicts[:-1] == [None] * (NO_STORAGE_VIEWS - 1)
    assert verdicts[-1] is not None and verdicts[-1].kind == "no_storage"
    # Another browser at the same address, or the same one ten minutes later, is a person.
    assert signals.verdict(policy, start(kept_nothing=True, agent=CHROME + " x"), NOW) is None
    later = NOW + timedelta(minutes=11)
    assert signals.verdict(policy, start(kept_nothing=True), later) is None


def test_new_visitors_with_cookies_from_one_address_are_not_storage_less(
    counter: WindowCounter,
) -> None:
    signals = BotSignals(counter)
    for i in range(NO_STORAGE_VIEWS + 2):
        assert signals.verdict(BotPolicy(), start(), NOW + timedelta(seconds=i)) is None


def test_many_new_visitors_from_one_address_are_suspected(counter: WindowCounter) -> None:
    signals, policy = BotSignals(counter), BotPolicy()
    for i in range(BUSY_ADDRESS_VISITORS):
        assert signals.verdict(policy, start(), NOW + timedelta(seconds=i)) is None
    verdict = signals.verdict(policy, start(), NOW + timedelta(seconds=60))
    assert verdict is not None and verdict.kind == "busy_address"
    assert signals.verdict(policy, start(address="198.51.100.8"), NOW) is None


def test_a_returning_visitor_who_never_sends_a_heartbeat_is_suspected(
    counter: WindowCounter,
) -> None:
    signals, policy = BotSignals(counter), BotPolicy()
    for i in range(NO_HEARTBEAT_VIEWS):
        assert signals.verdict(policy, start("v1"), NOW + timedelta(minutes=i)) is None
    verdict = signals.verdict(policy, start("v1"), NOW + timedelta(minutes=30))
    assert verdict is not None and verdict.kind == "no_heartbeat"
    # One heartbeat from a visible tab clears it.
    signals.heartbeat(1, "v1", NOW + timedelta(minutes=31))
    assert signals.verdict(policy, start("v1"), NOW + timedelta(minutes=32)) is None


def test_page_views_without_a_pool_number_never_count_against_heartbeats(
    counter: WindowCounter,
) -> None:
    signals = BotSignals(counter)
    for i in range(NO_HEARTBEAT_VIEWS * 2):
        moment = NOW + timedelta(minutes=i)
        assert signals.verdict(BotPolicy(), start("v2", pool_view=False), moment) is None


def test_behaviour_signals_can_be_turned_off(counter: WindowCounter) -> None:
    signals, policy = BotSignals(counter), BotPolicy(behaviour=False)
    for i in range(BUSY_ADDRESS_VISITORS + NO_STORAGE_VIEWS):
        moment = NOW + timedelta(seconds=i)
        assert signals.verdict(policy, start(kept_nothing=True), moment) is None


def test_data_centre_addresses_count_only_where_the_owner_opted_in() -> None:
    signals = BotSignals()
    cloud = start(address="3.5.140.2")
    assert signals.verdict(BotPolicy(behaviour=False), cloud, NOW) is None
    verdict = signals.verdict(BotPolicy(data_centres=True, behaviour=False), cloud, NOW)
    assert verdict is not None and verdict.kind == "data_centre" and "amazon" in verdict.detail
    home = start(address="93.184.216.34")
    assert signals.verdict(BotPolicy(data_centres=True, behaviour=False), home, NOW) is None


@pytest.mark.parametrize(
    ("address", "provider"),
    [
        ("3.5.140.2", "amazon"),
        ("20.42.0.1", "microsoft"),
        ("::ffff:3.5.140.2", "amazon"),
        ("192.168.1.10", None),
        ("127.0.0.1", None),
        ("testclient", None),
    ],
)
def test_data_centre_ranges_are_looked_up_by_address(address: str, provider: str | None) -> None:
    assert datacentre_of(parse_address(address)) == provider


def test_the_deny_list_wins_over_the_allow_list_and_matches_text_or_networks() -> None:
    policy = BotPolicy(
        allow=check_entries(["MyUptimeChecker", "203.0.113.0/24"]),
        deny=check_entries(["PartnerBot/2", "203.0.113.66"]),
    )
    signals = BotSignals()
    allowed = signals.listed(policy, "Mozilla/5.0 myuptimechecker/1.0", "198.51.100.1")
    assert allowed is not None and not allowed.bot and allowed.kind == "owner_allowed"
    assert signals.listed(policy, CHROME, "203.0.113.5") == allowed.__class__(
        False, "owner_allowed", "the project's allow-list names it (203.0.113.0/24)"
    )
    denied = signals.listed(policy, CHROME, "203.0.113.66")
    assert denied is not None and denied.bot and denied.kind == "owner_denied"
    denied = signals.listed(policy, "PartnerBot/2.1 (+https://partner.example)", "10.0.0.1")
    assert denied is not None and denied.kind == "owner_denied"
    assert signals.listed(policy, CHROME, "198.51.100.1") is None


@pytest.mark.parametrize("bad", ["ab", "300.1.1.1/8", "x" * 201])
def test_unusable_list_entries_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(BadEntry):
        check_entries([bad])


def test_a_list_has_at_most_its_cap_of_entries() -> None:
    with pytest.raises(BadEntry):
        check_entries([f"agent-{i}" for i in range(MAX_ENTRIES + 1)])


def test_a_stored_policy_reads_back_and_garbage_falls_back_to_the_default() -> None:
    policy = BotPolicy(
        allow=check_entries(["MyMonitor", "2001:db8::/32"]),
        deny=check_entries(["BadBot"]),
        behaviour=False,
        data_centres=True,
    )
    assert parse_policy({"bots": policy_to_json(policy)}) == policy
    assert parse_policy({}) == BotPolicy()
    assert parse_policy({"bots": "nonsense"}) == BotPolicy()
    assert parse_policy({"bots": {"allow": ["ok-agent", "x", 7], "deny": None}}).allow == (
        check_entries(["ok-agent"])
    )


@given(st.lists(st.text(max_size=60), max_size=8))
def test_any_stored_lists_never_break_tracking(lines: list[str]) -> None:
    policy = parse_policy({"bots": {"allow": lines, "deny": lines, "behaviour": "yes"}})
    assert policy.behaviour and not policy.data_centres
    found = policy.listed(CHROME, "198.51.100.1")
    assert found is None or found[0] == "deny"  # the same lines on both: the deny-list wins
