"""Benchmark of reports on a big project: each report through rollups against raw tables.

    python bench/reports_bench.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

It creates its own database (`ringtrail_bench_reports_<pid>`), migrates it and generates one
project (Europe/Kyiv, UAH) with 30 static numbers and 2 pools, then, with server-side SQL
from deterministic pseudo-random expressions, 365 days of: 20,000,000 visits and their
visitors (one per 2.5 visits), 1,000,000 calls linked to those visits, 1,200,000 leads (calls,
forms, callbacks), ad costs per day and campaign, and 40,000 deals (`--scale` multiplies the
counts; `--scale 0.01` is a quick run). Secondary indexes are built after the load.

Then it rebuilds the report rollups, and for the overview and every report of the catalogue,
over the last 30 and the last 365 days and once filtered to one source, times `--runs` runs
after `--warmup` runs of: the report through the rollups, the same report forced onto the raw
tables, and the dashboard page through the app in process. Last, it times the refresh of one
day after new calls arrive. Prints a table, writes JSON with `--json PATH`, and drops the
database unless `--keep`. `--reuse-database NAME` measures on a database an earlier run
generated (or generates into it) and keeps it. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ringtrail.settings import Settings  # noqa: E402
from ringtrail.storage import migrate  # noqa: E402

ZONE_NAME = "Europe/Kyiv"
DAYS = 365
VISITS = 20_000_000
CALLS = 1_000_000
FORM_LEADS = 200_000
DEALS = 40_000
SLOTS = 1024
"""Weighted choices are made by indexing an array of this many slots with a hash."""

# source, medium, channel, share of visits (%), campaigns, keywords?, referrer
SOURCES: list[tuple[str, str, str, float, int, bool, str]] = [
    ("google", "organic", "organic", 24, 0, False, "https://www.google.com/"),
    ("google", "cpc", "paid", 20, 20, True, "https://www.google.com/"),
    ("(direct)", "(none)", "direct", 14, 0, False, ""),
    ("facebook", "cpc", "paid", 8, 10, False, "https://m.facebook.com/"),
    ("instagram", "cpc", "paid", 5, 6, False, "https://l.instagram.com/"),
    ("yandex", "organic", "organic", 3, 0, False, "https://yandex.ua/"),
    ("bing", "organic", "organic", 2, 0, False, "https://www.bing.com/"),
    ("bing", "cpc", "paid", 2, 5, True, "https://www.bing.com/"),
    ("tiktok", "cpc", "paid", 4, 5, False, "https://www.tiktok.com/"),
    ("youtube", "video", "paid", 2, 4, False, "https://www.youtube.com/"),
    ("google", "display", "paid", 3, 4, False, "https://googleads.g.doubleclick.net/"),
    ("olx.ua", "referral", "referral", 5, 0, False, "https://www.olx.ua/"),
    ("prom.ua", "referral", "referral", 3, 0, False, "https://prom.ua/"),
    ("hotline.ua", "referral", "referral", 2, 0, False, "https://hotline.ua/"),
    ("newsletter", "email", "email", 3, 6, False, ""),
]
REGIONS: list[tuple[str, float]] = [
    ("Kyiv", 24), ("Kyiv Oblast", 7), ("Kharkiv Oblast", 8), ("Odesa Oblast", 7),
    ("Dnipropetrovsk Oblast", 9), ("Lviv Oblast", 7), ("Zaporizhzhia Oblast", 4),
    ("Vinnytsia Oblast", 3), ("Poltava Oblast", 3), ("Ivano-Frankivsk Oblast", 2),
    ("Khmelnytskyi Oblast", 2), ("Cherkasy Oblast", 2), ("Chernihiv Oblast", 2),
    ("Zhytomyr Oblast", 2), ("Sumy Oblast", 2), ("Rivne Oblast", 2), ("Volyn Oblast", 2),
    ("Ternopil Oblast", 2), ("Zakarpattia Oblast", 2), ("Chernivtsi Oblast", 1),
    ("Kirovohrad Oblast", 1), ("Mykolaiv Oblast", 2), ("Kherson Oblast", 1),
    ("Donetsk Oblast", 1),
]  # fmt: skip
HOURS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2.5, 4.5, 6.5, 7.5, 7.5,
         7, 7, 7, 6.8, 6.5, 6, 5.5, 5, 4.5, 4, 3, 2]  # fmt: skip
"""Relative traffic per local hour."""
CALL_HOURS = [0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 1.5, 5, 8, 9, 9,
              8.5, 8.5, 8.5, 8, 7.5, 6.5, 5, 3.5, 2.5, 1.5, 0.8, 0.3]  # fmt: skip
WEEKDAYS = [1.0, 1.02, 1.0, 0.98, 0.93, 0.72, 0.63]
STATIC_NUMBERS = 30
POOL_NUMBERS = 25
MARKER = "ringtrail_reports_bench"
"""Key of the JSON in a generated database's comment (what was generated, and when)."""


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


@contextlib.contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    """Times a step, prints it and records it in `timings`."""
    log(f"{name} ...")
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 1)
    log(f"{name}: {timings[name]} s")


# --- database ---------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    return Settings(database_url=url).sqlalchemy_url


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(admin_url: str, name: str | None = None) -> str:
    """A fresh database (`ringtrail_bench_reports_<pid>` unless named); returns its URL."""
    name = name or f"ringtrail_bench_reports_{os.getpid()}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url(admin_url, name)


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def generated_data(admin_url: str, name: str) -> dict[str, Any] | None:
    """What `generate` made in database `name` (its comment), or None if it has none.

    Raises LookupError if the database does not exist.
    """
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if row is None:
        raise LookupError(name)
    try:
        marker = json.loads(row[0] or "")
    except ValueError:
        return None
    return marker.get(MARKER) if isinstance(marker, dict) else None


def mark_generated(url: str, data: dict[str, Any]) -> None:
    """Records the generated project in the database's comment, for `--reuse-database`."""
    name = make_url(url).database
    comment = json.dumps({MARKER: data}, default=str).replace("'", "''")
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(f"COMMENT ON DATABASE \"{name}\" IS '{comment}'")


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_connection(url: str) -> psycopg.Connection[Any]:
    """A connection for bulk loading: no commit waits, no foreign-key triggers.

    Statements are never prepared: psycopg prepares one after its fifth run, and PostgreSQL
    then switches to a generic plan in which the array parameters (sources, slots, keywords)
    are no longer constants, so every row re-converts them (`smallint[]` to `int[]` and so
    on): the per-day loads slowed down some twentyfold after their first ten days. JIT is off
    because compiling the long expressions costs more per statement than it saves.
    """
    connection = psycopg.connect(libpq_url(url), autocommit=True, prepare_threshold=None)
    connection.execute("SET synchronous_commit = off")
    connection.execute("SET session_replication_role = replica")
    connection.execute("SET work_mem = '64MB'")
    connection.execute("SET jit = off")
    return connection


# --- shapes of the data -------------------------------------------------------------------


def slots(weights: list[float]) -> list[int]:
    """SLOTS 1-based indexes into `weights`, each repeated in proportion to its weight."""
    total = sum(weights)
    out: list[int] = []
    running = 0.0
    for index, weight in enumerate(weights, start=1):
        running += weight
        out.extend([index] * (round(running / total * SLOTS) - len(out)))
    return out[:SLOTS]


def seconds_of_day(hours: list[float]) -> list[float]:
    """1001 points of the inverse of the daily traffic curve: position in day -> second."""
    total = sum(hours)
    cumulative = [0.0]
    for weight in hours:
        cumulative.append(cumulative[-1] + weight / total)
    points = []
    hour = 0
    for index in range(1001):
        share = index / 1000
        while hour < 23 and cumulative[hour + 1] < share:
            hour += 1
        within = (share - cumulative[hour]) / max(cumulative[hour + 1] - cumulative[hour], 1e-9)
        points.append(min((hour + min(within, 1.0)) * 3600, 86399.0))
    return points


def day_counts(total: int, days: list[date], seed: int) -> list[int]:
    """`total` split over `days`: growth over the year, quieter weekends, some noise."""
    rng = random.Random(seed)
    weights = [
        (0.7 + 0.6 * index / len(days)) * WEEKDAYS[day.weekday()] * rng.uniform(0.9, 1.1)
        for index, day in enumerate(days)
    ]
    scale = total / sum(weights)
    counts = [int(weight * scale) for weight in weights]
    counts[-1] += total - sum(counts)
    return counts


def campaigns() -> tuple[list[str], list[int], list[int]]:
    """Campaign names and, per source, the 0-based first campaign and how many it has."""
    names: list[str] = []
    bases: list[int] = []
    counts: list[int] = []
    kinds = ["search", "brand", "remarketing", "shopping", "prospecting", "lookalike"]
    for source, medium, _channel, _share, count, _kw, _ref in SOURCES:
        bases.append(len(names))
        counts.append(count)
        for index in range(count):
            names.append(f"{source}_{medium}_{kinds[index % len(kinds)]}_{index + 1:02d}")
    return names, bases, counts


def keywords() -> list[str]:
    words = ["buy", "price", "kyiv", "delivery", "cheap", "best", "repair", "order", "shop",
             "reviews", "sale", "online", "warranty", "installment", "near me"]  # fmt: skip
    goods = ["sofa", "fridge", "washer", "laptop", "phone", "bike", "tyres", "boiler",
             "window", "door", "kitchen", "bed", "tv", "heater", "generator", "battery",
             "inverter", "solar panel", "air conditioner", "vacuum"]  # fmt: skip
    out = [f"{good} {word}" for good in goods for word in words]
    out += [f"{good} {word} {n}" for n in range(1, 7) for good in goods for word in words]
    return out[:2000]


def pages() -> list[str]:
    sections = ["catalog", "product", "blog", "sale", "brand", "service"]
    out = ["/", "/contacts", "/delivery", "/about", "/credit", "/warranty"]
    index = 0
    while len(out) < 300:
        out.append(f"/{sections[index % len(sections)]}/item-{index:03d}")
        index += 1
    return out


# --- generation ---------------------------------------------------------------------------


def seed_project(url: str) -> dict[str, Any]:
    """Organisation, project, 2 pools of numbers, 30 static numbers, tags; returns their ids."""
    now = datetime.now(UTC)
    with psycopg.connect(libpq_url(url), autocommit=True) as db:
        org = db.execute(
            "INSERT INTO organizations (name, slug, created_at) VALUES ('Bench', 'bench', %s)"
            " RETURNING id",
            (now,),
        ).fetchone()
        assert org is not None
        project_row = db.execute(
            """INSERT INTO projects (organization_id, name, slug, public_key, timezone, currency,
                 default_country, allowed_domains, main_number, replace_numbers, swap_selectors,
                 attribution_touch, attribution_model, grace_minutes, cooldown_minutes,
                 unique_call_window_days, recording_retention_days, target_call_goal_percent,
                 webhook_secret, extra, created_at)
               VALUES (%s, 'Bench shop', 'bench-shop', %s, %s, 'UAH', 'UA', '["shop.example"]',
                 '+380441230000', '[]', '[]', 'last', 'last_non_direct', 15, 30, 30, 365, 60,
                 'bench', '{}', %s) RETURNING id""",
            (org[0], f"bench{os.getpid()}", ZONE_NAME, now),
        ).fetchone()
        assert project_row is not None
        project = int(project_row[0])
        numbers: dict[str, Any] = {"static": [], "pool": []}
        campaign_names, bases, counts = campaigns()
        for index in range(STATIC_NUMBERS):
            source = SOURCES[[1, 3, 4, 7, 8, 9, 10, 11, 12, 13][index % 10]]
            position = SOURCES.index(source)
            campaign = (
                campaign_names[bases[position] + index % counts[position]]
                if counts[position]
                else None
            )
            e164 = f"+38044{index:07d}"
            row = db.execute(
                """INSERT INTO tracking_numbers (project_id, e164, kind, is_pool_default, label,
                     source, medium, campaign, offline_only, is_active, created_at)
                   VALUES (%s, %s, 'static', false, %s, %s, %s, %s, false, true, %s)
                   RETURNING id""",
                (project, e164, f"static {index}", source[0], source[1], campaign, now),
            ).fetchone()
            assert row is not None
            numbers["static"].append((row[0], e164, source[0], source[1], campaign))
        for pool_index, pool_name in enumerate(["Google Ads", "Facebook Ads"]):
            pool = db.execute(
                "INSERT INTO pools (project_id, name, is_active, created_at)"
                " VALUES (%s, %s, true, %s) RETURNING id",
                (project, pool_name, now),
            ).fetchone()
            assert pool is not None
            for index in range(POOL_NUMBERS + 1):
                e164 = f"+38067{pool_index}{index:06d}"
                row = db.execute(
                    """INSERT INTO tracking_numbers (project_id, e164, kind, pool_id,
                         is_pool_default, label, offline_only, is_active, created_at)
                       VALUES (%s, %s, 'pool', %s, %s, '', false, true, %s) RETURNING id""",
                    (project, e164, pool[0], index == POOL_NUMBERS, now),
                ).fetchone()
                assert row is not None
                numbers["pool"].append((row[0], e164, pool_index))
        for name, color in [("price question", "#3366cc"), ("spam", "#cc3333"),
                            ("order", "#33aa33"), ("complaint", "#aa6600"),
                            ("wholesale", "#666666")]:  # fmt: skip
            db.execute(
                "INSERT INTO tags (project_id, name, color, created_at) VALUES (%s, %s, %s, %s)",
                (project, name, color, now),
            )
    return {"project_id": project, "numbers": numbers}


VISITORS_SQL = """
INSERT INTO visitors (id, project_id, public_id, first_seen_at, last_seen_at)
SELECT g, %(project)s, 'v' || lpad(g::text, 10, '0'), t,
  t + make_interval(secs => (hashint8extended(g, 12) & 2097151)::float8)
FROM (SELECT g, %(start)s::timestamptz + make_interval(secs =>
        (hashint8extended(g, 11) & 16777215)::float8 / 16777216 * %(span)s) AS t
      FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g) AS v
"""

# The subqueries end in `OFFSET 0` so that PostgreSQL does not flatten them: flattened, each
# use of a derived column (source, campaign...) repeats the whole expression that makes it,
# which doubled the time per row.
VISITS_SQL = """
INSERT INTO visits (id, project_id, visitor_id, started_at, last_seen_at, landing_url,
  landing_path, referrer, utm_source, utm_medium, utm_campaign, utm_term, gclid, fbclid,
  source, medium, campaign, keyword, channel, source_trace, user_agent, device_type, browser,
  os, is_bot, geo_country, geo_region, geo_city, extra)
SELECT g, %(project)s, visitor, t, t + make_interval(secs => 5 + (h2 %% 1200)),
  'https://shop.example' || page, page, referrer,
  CASE WHEN tagged THEN source END, CASE WHEN tagged THEN medium END,
  CASE WHEN tagged THEN campaign END, CASE WHEN tagged THEN keyword END,
  CASE WHEN source = 'google' AND medium = 'cpc' THEN 'Cj0' || g END,
  CASE WHEN source IN ('facebook', 'instagram') THEN 'IwAR' || g END,
  source, medium, campaign, keyword, channel, '[]', 'Mozilla/5.0 (bench)',
  CASE WHEN u6 < 0.62 THEN 'mobile' WHEN u6 < 0.95 THEN 'desktop' ELSE 'tablet' END,
  CASE WHEN u6 < 0.62 THEN 'Chrome Mobile' ELSE 'Chrome' END,
  CASE WHEN u6 < 0.45 THEN 'Android' WHEN u6 < 0.62 THEN 'iOS' ELSE 'Windows' END,
  u7 < 0.01, 'UA', region, region, '{}'
FROM (
  SELECT g, t, h2, u6, u7, visitor,
    (%(src_name)s::text[])[s] AS source, (%(src_medium)s::text[])[s] AS medium,
    (%(src_channel)s::text[])[s] AS channel, (%(src_ref)s::text[])[s] AS referrer,
    (%(src_tagged)s::bool[])[s] AS tagged,
    CASE WHEN (%(camp_count)s::int[])[s] > 0 THEN (%(camp_names)s::text[])[
      1 + (%(camp_base)s::int[])[s] + floor(power(u3, 1.6) * (%(camp_count)s::int[])[s])::int]
    END AS campaign,
    CASE WHEN (%(src_kw)s::bool[])[s] THEN
      (%(keywords)s::text[])[1 + floor(2000 * power(u4, 3))::int] END AS keyword,
    (%(pages)s::text[])[1 + floor(300 * power(u5, 2.2))::int] AS page,
    (%(regions)s::text[])[(%(region_slots)s::int[])[1 + (h8 & 1023)]] AS region
  FROM (
    SELECT g,
      %(day_start)s::timestamptz + make_interval(secs =>
        (%(secs)s::float8[])[1 + floor(pos)::int]
        + (pos - floor(pos)) * ((%(secs)s::float8[])[2 + floor(pos)::int]
                                - (%(secs)s::float8[])[1 + floor(pos)::int])) AS t,
      (%(src_slots)s::int[])[1 + (hb & 1023)] AS s,
      (ha >> 4) & 2147483647 AS h2,
      (ha & 65535)::float8 / 65536 AS u3,
      ((ha >> 16) & 65535)::float8 / 65536 AS u4,
      ((ha >> 32) & 65535)::float8 / 65536 AS u5,
      ((ha >> 48) & 65535)::float8 / 65536 AS u6,
      ((hb >> 20) & 65535)::float8 / 65536 AS u7,
      hb >> 10 AS h8,
      1 + ((hb >> 36) & 134217727) %% %(visitors)s AS visitor
    FROM (SELECT g, (g - %(g0)s + 0.5)::float8 * 1000.0 / %(n)s AS pos,
            hashint8extended(g, 3) AS ha, hashint8extended(g, 1) AS hb
          FROM generate_series(%(g0)s::bigint, %(g1)s::bigint) AS g OFFSET 0) AS positions
    OFFSET 0
  ) AS draws
  OFFSET 0
) AS visits_of_day
"""

CALLS_SQL = """
INSERT INTO calls (id, project_id, tracking_number_id, provider, provider_call_id, direction,
  caller_e164, dialled_e164, started_at, answered_at, ended_at, duration_seconds, talk_seconds,
  status, is_first_time, is_unique, is_target, target_set_by, needs_callback, visitor_id,
  visit_id, lead_id, attribution_kind, attribution_reason, confidence, candidates, source,
  medium, campaign, keyword, landing_page, snapshot, caller_country, caller_region,
  created_at)
SELECT g, %(project)s, number_id, 'bench', 'c' || lpad(g::text, 10, '0'), 'inbound',
  '+380' || (500000000 + h_caller %% %(callers)s), dialled, started,
  CASE WHEN status = 'answered' THEN started + make_interval(secs => ring) END,
  started + make_interval(secs => ring + talk), ring + talk, talk, status,
  first_time, first_time OR u_unique < 0.4,
  status = 'answered' AND talk >= 45 AND u_target < 0.82, 'rule',
  status <> 'answered' AND u_target < 0.3, visitor_id, visit_id, g, kind, '',
  CASE kind WHEN 'session' THEN 0.9 WHEN 'static' THEN 1.0 WHEN 'pool_source' THEN 0.5
    ELSE 0 END,
  '[]', source, medium, campaign, keyword, landing_page, snapshot, 'UA',
  CASE WHEN u_region < 0.7 AND visit_region IS NOT NULL THEN visit_region
    ELSE (%(regions)s::text[])[(%(region_slots)s::int[])[1 + (h_region & 1023)]] END,
  started
FROM (
  SELECT g, kind, status, first_time, u_unique, u_target, u_region, h_region, h_caller,
    ring, CASE WHEN status = 'answered' THEN least(3600, 5 + floor(-ln(1 - u_talk) * 140))::int
      ELSE 0 END AS talk,
    CASE kind WHEN 'session' THEN v.started_at + make_interval(secs => 20 + u_delay * 1800)
      ELSE own_t END AS started,
    CASE kind WHEN 'static' THEN (%(static_ids)s::bigint[])[k_static]
      ELSE (%(pool_ids)s::bigint[])[k_pool] END AS number_id,
    CASE kind WHEN 'static' THEN (%(static_e164)s::text[])[k_static]
      ELSE (%(pool_e164)s::text[])[k_pool] END AS dialled,
    v.visitor_id, v.id AS visit_id, v.geo_region AS visit_region,
    CASE kind WHEN 'session' THEN v.source WHEN 'static' THEN (%(static_src)s::text[])[k_static]
      WHEN 'pool_source' THEN (%(pool_src)s::text[])[k_pool] END AS source,
    CASE kind WHEN 'session' THEN v.medium WHEN 'static' THEN (%(static_med)s::text[])[k_static]
      WHEN 'pool_source' THEN 'cpc' END AS medium,
    CASE kind WHEN 'session' THEN v.campaign
      WHEN 'static' THEN (%(static_camp)s::text[])[k_static] END AS campaign,
    CASE kind WHEN 'session' THEN v.keyword END AS keyword,
    CASE kind WHEN 'session' THEN v.landing_path END AS landing_page,
    CASE kind WHEN 'session' THEN jsonb_build_object('source', v.source, 'medium', v.medium,
        'campaign', v.campaign, 'visitor_geo',
        jsonb_build_object('country', 'UA', 'region', v.geo_region, 'city', v.geo_city))
      ELSE '{}'::jsonb END AS snapshot
  FROM (
    SELECT g,
      CASE WHEN u_kind < 0.55 THEN 'session' WHEN u_kind < 0.75 THEN 'static'
        WHEN u_kind < 0.85 THEN 'pool_source' ELSE 'unattributed' END AS kind,
      CASE WHEN u_status < 0.70 THEN 'answered' WHEN u_status < 0.88 THEN 'missed'
        WHEN u_status < 0.93 THEN 'busy' ELSE 'abandoned' END AS status,
      u_first < 0.6 AS first_time, u_unique, u_target, u_talk, u_delay, u_region,
      hashint8extended(g, 111) AS h_region, hashint8extended(g, 112) & 2147483647 AS h_caller,
      3 + floor(u_ring * 25)::int AS ring,
      1 + (hashint8extended(g, 113) & 2147483647) %% %(static_count)s AS k_static,
      1 + (hashint8extended(g, 114) & 2147483647) %% %(pool_count)s AS k_pool,
      %(vg0)s + (hashint8extended(g, 115) & 2147483647) %% %(vn)s AS visit_pick,
      %(day_start)s::timestamptz + make_interval(secs =>
        (%(secs)s::float8[])[1 + floor(pos)::int]
        + (pos - floor(pos)) * ((%(secs)s::float8[])[2 + floor(pos)::int]
                                - (%(secs)s::float8[])[1 + floor(pos)::int])) AS own_t
    FROM (
      SELECT g, (g - %(g0)s + 0.5)::float8 * 1000.0 / %(n)s AS pos,
        (hashint8extended(g, 101) & 16777215)::float8 / 16777216 AS u_kind,
        (hashint8extended(g, 102) & 16777215)::float8 / 16777216 AS u_status,
        (hashint8extended(g, 103) & 16777215)::float8 / 16777216 AS u_first,
        (hashint8extended(g, 104) & 16777215)::float8 / 16777216 AS u_unique,
        (hashint8extended(g, 105) & 16777215)::float8 / 16777216 AS u_target,
        (hashint8extended(g, 106) & 16777215)::float8 / 16777216 AS u_talk,
        (hashint8extended(g, 107) & 16777215)::float8 / 16777216 AS u_delay,
        (hashint8extended(g, 108) & 16777215)::float8 / 16777216 AS u_region,
        (hashint8extended(g, 109) & 16777215)::float8 / 16777216 AS u_ring
      FROM generate_series(%(g0)s::bigint, %(g1)s::bigint) AS g
      OFFSET 0
    ) AS draws
    OFFSET 0
  ) AS a
  LEFT JOIN visits AS v ON a.kind = 'session' AND v.id = a.visit_pick
  OFFSET 0
) AS calls_of_day
"""

CALL_LEADS_SQL = """
INSERT INTO leads (id, project_id, kind, call_id, visitor_id, visit_id, phone_e164, source,
  medium, campaign, status, is_target, payload, created_at)
SELECT id, project_id, 'call', id, visitor_id, visit_id, caller_e164, source, medium, campaign,
  CASE WHEN is_target THEN 'qualified' ELSE 'new' END, is_target, '{}', started_at
FROM calls
"""

FORM_LEADS_SQL = """
INSERT INTO leads (id, project_id, kind, visitor_id, visit_id, phone_e164, email, name, source,
  medium, campaign, status, is_target, payload, created_at)
SELECT g, %(project)s, CASE WHEN u < 0.75 THEN 'form' ELSE 'callback' END, v.visitor_id, v.id,
  '+380' || (600000000 + g %% 900000), CASE WHEN u < 0.75 THEN 'lead' || g || '@mail.example' END,
  'Lead ' || g, v.source, v.medium, v.campaign, 'new', u < 0.5, '{}',
  v.started_at + make_interval(secs => 60 + (g %% 600))
FROM (
  SELECT g, (hashint8extended(g, 201) & 16777215)::float8 / 16777216 AS u,
    1 + (hashint8extended(g, 202) & 2147483647) %% %(visits)s AS pick
  FROM generate_series(%(g0)s::bigint, %(g1)s::bigint) AS g
) AS picks JOIN visits AS v ON v.id = picks.pick
"""

AD_COSTS_SQL = """
INSERT INTO ad_costs (project_id, day, source, medium, campaign, cost, currency, clicks,
  impressions, created_at)
SELECT %(project)s, day, source, medium, campaign,
  round((base * (0.7 + 0.6 * n / %(days)s) * (0.8 + 0.4 * u))::numeric, 2), 'UAH',
  floor(base / 12 * (0.8 + 0.4 * u))::int, floor(base * 4 * (0.8 + 0.4 * u))::int, now()
FROM (
  SELECT d.day, d.n, c.source, c.medium, c.campaign,
    %(scale)s * (300 + (hashint8extended(c.i, 301) & 4095)) AS base,
    (hashint8extended(d.n * 1000 + c.i, 302) & 16777215)::float8 / 16777216 AS u
  FROM (SELECT (%(first)s::date + n) AS day, n FROM generate_series(0, %(days)s - 1) AS n) AS d
  CROSS JOIN unnest(%(c_src)s::text[], %(c_med)s::text[], %(c_name)s::text[])
    WITH ORDINALITY AS c(source, medium, campaign, i)
) AS costs
"""

DEALS_SQL = """
INSERT INTO deals (project_id, external_id, call_id, lead_id, phone_e164, status, revenue,
  currency, closed_at, created_at)
SELECT %(project)s, 'D' || id, id, lead_id, caller_e164,
  CASE WHEN u < 0.55 THEN 'won' WHEN u < 0.85 THEN 'lost' ELSE 'open' END,
  CASE WHEN u < 0.55 THEN round((800 * exp(u2 * 4))::numeric, 2) ELSE 0 END, 'UAH',
  CASE WHEN u < 0.85 THEN started_at + make_interval(secs => u2 * 14 * 86400) END, started_at
FROM (
  SELECT id, lead_id, caller_e164, started_at,
    (hashint8extended(id, 401) & 16777215)::float8 / 16777216 AS u,
    (hashint8extended(id, 402) & 16777215)::float8 / 16777216 AS u2
  FROM calls WHERE status = 'answered' AND is_target
  ORDER BY hashint8extended(id, 400) LIMIT %(deals)s
) AS won
"""

BIG_TABLES = ["visitors", "visits", "calls", "leads", "call_tags", "deals", "ad_costs"]


def drop_secondary_indexes(url: str) -> list[tuple[str, str]]:
    """Drops the indexes of the big tables that back no constraint; returns (table, DDL)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as db:
        rows = db.execute(
            """SELECT i.indexname, i.tablename, i.indexdef FROM pg_indexes AS i
               WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                                 WHERE c.conname = i.indexname)""",
            (BIG_TABLES,),
        ).fetchall()
        for name, _table, _ddl in rows:
            db.execute(f'DROP INDEX "{name}"')
    return [(table, ddl) for _name, table, ddl in rows]


def table_sizes(url: str) -> dict[str, int]:
    """Bytes of each big table's heap."""
    with psycopg.connect(libpq_url(url), autocommit=True) as db:
        rows = db.execute(
            "SELECT relname::text, pg_relation_size(oid) FROM pg_class"
            " WHERE relkind = 'r' AND relname = ANY(%s)",
            (BIG_TABLES,),
        ).fetchall()
    return {name: int(size) for name, size in rows}


def run_parallel(
    url: str,
    work: list[tuple[str, dict[str, Any] | None]],
    workers: int,
    label: str,
    every: int = 60,
) -> None:
    """Runs each (sql, parameters) of `work` once, in order, on `workers` load connections.

    Prints progress every `every` statements; the first error stops the other workers.
    """
    lock = threading.Lock()
    pending = list(reversed(work))
    done = [0]
    errors: list[BaseException] = []

    def worker() -> None:
        with load_connection(url) as db:
            while True:
                with lock:
                    if not pending or errors:
                        return
                    sql, parameters = pending.pop()
                try:
                    db.execute(sql, parameters)
                except BaseException as exc:
                    with lock:
                        errors.append(exc)
                    return
                with lock:
                    done[0] += 1
                    if done[0] % every == 0 and done[0] < len(work):
                        log(f"  {label}: {done[0]}/{len(work)}")

    threads = [threading.Thread(target=worker) for _ in range(max(workers, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def run_days(url: str, sql: str, jobs: list[dict[str, Any]], workers: int, label: str) -> None:
    """Runs `sql` once per job (one day each) on `workers` connections, printing progress."""
    run_parallel(url, [(sql, job) for job in jobs], workers, f"{label} (days)")


def generate(url: str, scale: float, workers: int, timings: dict[str, float]) -> dict[str, Any]:
    """The whole project; returns its ids and sizes."""
    zone = ZoneInfo(ZONE_NAME)
    today = datetime.now(zone).date()
    days = [today - timedelta(days=DAYS - 1 - offset) for offset in range(DAYS)]
    n_visits = max(int(VISITS * scale), DAYS * 10)
    n_visitors = max(int(n_visits / 2.5), 1)
    n_calls = max(int(CALLS * scale), DAYS)
    n_forms = max(int(FORM_LEADS * scale), 10)
    n_deals = max(int(DEALS * scale), 10)

    with step("migrate", timings):
        migrate.upgrade(sqlalchemy_url(url))
    with step("project, numbers, pools", timings):
        seeded = seed_project(url)
        project = seeded["project_id"]
    with step("drop secondary indexes", timings):
        index_ddl = drop_secondary_indexes(url)

    names, bases, counts = campaigns()
    region_names = [name for name, _ in REGIONS]
    region_slots = slots([weight for _, weight in REGIONS])
    common = {"project": project, "regions": region_names, "region_slots": region_slots}

    start = datetime.combine(days[0], datetime.min.time(), tzinfo=zone)
    chunk = 500_000
    with step(f"visitors ({n_visitors:,})", timings):
        run_parallel(
            url,
            [
                (VISITORS_SQL, {"project": project, "start": start, "span": DAYS * 86400.0,
                                "first": first, "last": min(first + chunk - 1, n_visitors)})
                for first in range(1, n_visitors + 1, chunk)
            ],
            workers, "visitors (chunks)", every=4,
        )  # fmt: skip

    visit_counts = day_counts(n_visits, days, seed=1)
    visit_first: list[int] = []
    jobs: list[dict[str, Any]] = []
    g0 = 1
    secs = seconds_of_day(HOURS)
    for day, count in zip(days, visit_counts, strict=True):
        visit_first.append(g0)
        jobs.append(
            common
            | {
                "g0": g0, "g1": g0 + count - 1, "n": count, "visitors": n_visitors,
                "day_start": datetime.combine(day, datetime.min.time(), tzinfo=zone),
                "secs": secs,
                "src_name": [s[0] for s in SOURCES], "src_medium": [s[1] for s in SOURCES],
                "src_channel": [s[2] for s in SOURCES], "src_ref": [s[6] for s in SOURCES],
                "src_tagged": [s[2] in ("paid", "email") for s in SOURCES],
                "src_kw": [s[5] for s in SOURCES],
                "src_slots": slots([s[3] for s in SOURCES]),
                "camp_names": names, "camp_base": bases, "camp_count": counts,
                "keywords": keywords(), "pages": pages(),
            }
        )  # fmt: skip
        g0 += count
    with step(f"visits ({n_visits:,})", timings):
        run_days(url, VISITS_SQL, jobs, workers, "visits")

    with load_connection(url) as db:
        db.execute("ANALYZE visits")
    call_counts = day_counts(n_calls, days, seed=2)
    static = seeded["numbers"]["static"]
    pool = list(seeded["numbers"]["pool"])
    pool_sources = ["google", "facebook"]
    call_secs = seconds_of_day(CALL_HOURS)
    jobs = []
    g0 = 1
    for index, (day, count) in enumerate(zip(days, call_counts, strict=True)):
        jobs.append(
            common
            | {
                "g0": g0, "g1": g0 + count - 1, "n": count, "secs": call_secs,
                "day_start": datetime.combine(day, datetime.min.time(), tzinfo=zone),
                "callers": max(int(n_calls * 0.8), 1),
                "vg0": visit_first[index], "vn": visit_counts[index],
                "static_count": len(static), "pool_count": len(pool),
                "static_ids": [n[0] for n in static], "static_e164": [n[1] for n in static],
                "static_src": [n[2] for n in static], "static_med": [n[3] for n in static],
                "static_camp": [n[4] for n in static],
                "pool_ids": [n[0] for n in pool], "pool_e164": [n[1] for n in pool],
                "pool_src": [pool_sources[n[2]] for n in pool],
            }
        )  # fmt: skip
        g0 += count
    with step(f"calls ({n_calls:,})", timings):
        run_days(url, CALLS_SQL, jobs, workers, "calls")

    with step(f"leads ({n_calls + n_forms:,})", timings):
        run_parallel(
            url,
            [(CALL_LEADS_SQL, None),
             (FORM_LEADS_SQL, {"project": project, "g0": n_calls + 1, "g1": n_calls + n_forms,
                               "visits": n_visits})],
            workers, "leads",
        )  # fmt: skip
    paid = [
        (source, medium, names[bases[i] + k])
        for i, (source, medium, channel, _s, count, _kw, _r) in enumerate(SOURCES)
        if channel == "paid"
        for k in range(count)
    ]
    with step(f"ad costs, deals ({n_deals:,}), tags", timings), load_connection(url) as db:
        db.execute(
            AD_COSTS_SQL,
            {"project": project, "days": DAYS, "first": days[0], "scale": max(scale, 0.01),
             "c_src": [p[0] for p in paid], "c_med": [p[1] for p in paid],
             "c_name": [p[2] for p in paid]},
        )  # fmt: skip
        db.execute(DEALS_SQL, {"project": project, "deals": n_deals})
        db.execute(
            """UPDATE calls SET deal_value = deals.revenue FROM deals
               WHERE deals.call_id = calls.id AND deals.status = 'won'"""
        )
        db.execute(
            """INSERT INTO call_tags (call_id, tag_id)
               SELECT calls.id, tags.id FROM calls JOIN tags ON tags.project_id = calls.project_id
               WHERE (hashint8extended(calls.id, 500) & 1023) < 80
                 AND tags.name = (ARRAY['price question', 'spam', 'order', 'complaint',
                   'wholesale'])[1 + (hashint8extended(calls.id, 501) & 1023) % 5]"""
        )
        for table, last in [("visitors", n_visitors), ("visits", n_visits),
                            ("calls", n_calls), ("leads", n_calls + n_forms)]:  # fmt: skip
            db.execute(f"SELECT setval('{table}_id_seq', %s)", (last,))

    # Largest tables first, so that the two longest builds run side by side; each
    # connection builds alone (no parallel workers: the connections already fill the cores).
    sizes = table_sizes(url)
    index_ddl.sort(key=lambda item: -sizes.get(item[0], 0))
    settings = "SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 0; "
    with step("secondary indexes", timings):
        run_parallel(url, [(settings + ddl, None) for _table, ddl in index_ddl], workers,
                     "indexes", every=4)  # fmt: skip
    with step("vacuum analyze", timings):
        run_parallel(
            url,
            [(f"VACUUM ANALYZE {table}", None) for table in sorted(BIG_TABLES,
                                                              key=lambda t: -sizes.get(t, 0))],
            workers, "vacuum", every=100,
        )  # fmt: skip
    with psycopg.connect(libpq_url(url)) as db:
        size = db.execute("SELECT pg_database_size(current_database())").fetchone()
    return {
        "project_id": project,
        "days": DAYS,
        "first_day": days[0].isoformat(),
        "last_day": days[-1].isoformat(),
        "visits": n_visits,
        "visitors": n_visitors,
        "calls": n_calls,
        "leads": n_calls + n_forms,
        "deals": n_deals,
        "ad_cost_rows": DAYS * len(paid),
        "database_bytes": size[0] if size else None,
    }


# --- measurement --------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 (nearest rank) in milliseconds."""
    ordered = sorted(values)
    rank = max(math.ceil(len(ordered) * 0.95) - 1, 0)
    return {
        "runs": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[rank] * 1000, 1),
    }


def timed(work: Callable[[], Any], runs: int, warmup: int, budget_s: float) -> dict[str, float]:
    """`runs` timings of `work` after `warmup` untimed runs; fewer if over `budget_s` seconds."""
    spent = time.perf_counter()
    for _ in range(warmup):
        work()
        if time.perf_counter() - spent > budget_s:
            break
    values: list[float] = []
    started_all = time.perf_counter()
    for _ in range(runs):
        started = time.perf_counter()
        work()
        values.append(time.perf_counter() - started)
        if time.perf_counter() - started_all > budget_s:
            break
    return percentiles(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (any database on it)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 20M visits, 1M calls")
    parser.add_argument("--workers", type=int, default=2, help="connections that load days")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per figure")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--raw-runs", type=int, default=5, help="timed runs of the raw path")
    parser.add_argument(
        "--raw-budget", type=float, default=20.0, help="seconds per raw figure (>= 1 run)"
    )
    parser.add_argument("--page-runs", type=int, default=10, help="timed page requests")
    parser.add_argument(
        "--budget", type=float, default=120.0, help="seconds per rollup or page figure (>= 1 run)"
    )
    parser.add_argument("--reports", default="", help="comma-separated report ids (all)")
    parser.add_argument("--no-measure", action="store_true", help="generate only")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse-database",
        metavar="NAME",
        help="measure on this database if an earlier run generated it (no generation), else"
        " generate into it; it is always kept",
    )
    parser.add_argument(
        "--no-rebuild", action="store_true", help="keep the rollups already in the database"
    )
    parser.add_argument(
        "--rebuild-only", action="store_true", help="rebuild the rollups, time no report"
    )
    options = parser.parse_args()

    timings: dict[str, float] = {}
    result: dict[str, Any] = {"cpus": os.cpu_count(), "scale": options.scale}
    keep = options.keep or bool(options.reuse_database)
    url = reuse(options) if options.reuse_database else None
    try:
        if url is not None:
            data = generated_data(options.database_url, options.reuse_database)
            assert data is not None
            result["scale"] = data.get("scale", options.scale)
            result["data"] = data
            result["generation_s"] = data.get("generation_s", {})
            result["reused_database"] = options.reuse_database
        else:
            url = create_database(options.database_url, options.reuse_database)
            log(f"database {make_url(url).database}, scale {options.scale}")
            started = time.perf_counter()
            result["data"] = generate(url, options.scale, options.workers, timings)
            timings["generation total"] = round(time.perf_counter() - started, 1)
            log(f"generated in {timings['generation total']} s: {result['data']}")
            result["generation_s"] = timings
            mark_generated(
                url,
                result["data"] | {"scale": options.scale, "generation_s": timings,
                                  "generated_at": datetime.now(UTC).isoformat()},
            )  # fmt: skip
        if not options.no_measure:
            result |= measure(url, result["data"]["project_id"], options)
    finally:
        if url is None:
            pass
        elif keep:
            log(f"kept {make_url(url).database} (--reuse-database {make_url(url).database})")
        else:
            drop_database(options.database_url, url)
    print_table(result)
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(result, indent=2, default=str))
        log(f"written {options.json}")


def reuse(options: argparse.Namespace) -> str | None:
    """The URL of `--reuse-database` if an earlier run generated it (migrated to the latest
    schema); None if it must be generated. Refuses a database this bench did not make."""
    name = options.reuse_database
    try:
        data = generated_data(options.database_url, name)
    except LookupError:
        log(f"database {name} does not exist: generating it")
        return None
    if data is None:
        if not name.startswith("ringtrail_bench_"):
            raise SystemExit(f"database {name} exists and was not generated by this bench")
        log(f"database {name} holds no finished generation: generating it again")
        return None
    url = database_url(options.database_url, name)
    log(f"reusing database {name} (scale {data.get('scale')}, generated"
        f" {data.get('generated_at')}): {data.get('visits'):,} visits, {data.get('calls'):,}"
        " calls")  # fmt: skip
    if data.get("scale") != options.scale:
        log(f"  note: --scale {options.scale} is ignored, the database has scale"
            f" {data.get('scale')}")  # fmt: skip
    migrate.upgrade(sqlalchemy_url(url))
    return url


RAW_FUNCTIONS = ("call_rows", "lead_rows", "visit_rows")
PASSWORD = "bench-password-1"  # noqa: S105


@contextlib.contextmanager
def forced_raw() -> Iterator[None]:
    """Reports read only raw tables: the engine's row functions and `money_by` get
    `raw=True` everywhere.

    The report modules import `call_rows`, `lead_rows`, `visit_rows` and `money_by` by name,
    so each module's reference is replaced, not just the defining module's.
    """
    from ringtrail.services.money import returns
    from ringtrail.services.reports import engine

    originals = [getattr(engine, name) for name in RAW_FUNCTIONS] + [returns.money_by]
    patched: list[tuple[Any, str, Any]] = []
    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith("ringtrail."):
            continue
        for attribute, value in list(vars(module).items()):
            if any(value is original for original in originals):
                patched.append((module, attribute, value))
                setattr(module, attribute, functools.partial(value, raw=True))
    try:
        yield
    finally:
        for module, attribute, value in patched:
            setattr(module, attribute, value)


def variants(today: date) -> list[tuple[str, Any, Any, dict[str, str]]]:
    """(name, period, filters, page query) of each measured variant."""
    from ringtrail.domain.reports.periods import Period
    from ringtrail.services.reports.engine import ReportFilters

    year = Period(today - timedelta(days=364), today)
    return [
        ("30 days", Period(today - timedelta(days=29), today), ReportFilters(),
         {"period": "last_30_days"}),
        ("365 days", year, ReportFilters(),
         {"from": year.start.isoformat(), "to": year.end.isoformat()}),
        ("365 days, source=google", year, ReportFilters(sources=("google",)),
         {"from": year.start.isoformat(), "to": year.end.isoformat(), "source": "google"}),
    ]  # fmt: skip


def log_in(client: Any, email: str) -> None:
    """Sign in through the login form, as a browser does."""
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": "/", "csrf_token": token},
        follow_redirects=False,
    )
    if response.status_code not in (302, 303):
        raise RuntimeError(f"login failed: {response.status_code}")


def ingest_new_calls(runtime: Any, project_id: int, count: int) -> float:
    """`count` new calls of today through CallIngestion; returns the seconds it took."""
    from ringtrail.services.call_ingestion import CallIngestion
    from ringtrail.telephony.signed import parse

    with runtime.sessions() as db:
        numbers = [
            row[0]
            for row in db.execute(
                text("SELECT e164 FROM tracking_numbers WHERE project_id = :p AND kind = 'pool'"),
                {"p": project_id},
            )
        ]
    now = datetime.now(UTC)
    events: list[dict[str, Any]] = []
    for index in range(count):
        at = now - timedelta(minutes=5, seconds=index * 7)
        call_id = f"bench-new-{os.getpid()}-{index}"
        events += [
            {"event": "call.started", "call_id": call_id, "occurred_at": at.isoformat(),
             "to": numbers[index % len(numbers)], "from": f"+38050{index:07d}"},
            {"event": "call.answered", "call_id": call_id,
             "occurred_at": (at + timedelta(seconds=6)).isoformat()},
            {"event": "call.ended", "call_id": call_id,
             "occurred_at": (at + timedelta(seconds=96)).isoformat(), "outcome": "answered",
             "total_seconds": 96, "talk_seconds": 90},
        ]  # fmt: skip
    started = time.perf_counter()
    CallIngestion(runtime.sessions).ingest_many(
        parse(json.dumps({"events": events}).encode(), project_id), project_id=project_id
    )
    return time.perf_counter() - started


def measure(url: str, project_id: int, options: argparse.Namespace) -> dict[str, Any]:
    """Rollup rebuild, every report through rollups / raw / page, and a dirty-day refresh."""
    import tempfile

    from fastapi.testclient import TestClient

    from ringtrail.domain.roles import Role
    from ringtrail.runtime import bootstrap
    from ringtrail.services.accounts import create_user, set_membership
    from ringtrail.services.reports import catalog, rollups
    from ringtrail.storage.models import Project, User
    from ringtrail.web.app import create_app

    out: dict[str, Any] = {}
    data_dir = tempfile.mkdtemp(prefix="ringtrail-bench-")
    settings = Settings(
        database_url=url, secret_key="bench-secret-key-not-for-production", data_dir=Path(data_dir)
    )
    runtime = bootstrap(settings)
    with runtime.sessions() as db:
        if not options.no_rebuild:
            log("rollup rebuild ...")
            started = time.perf_counter()
            rollups.rebuild_project(db, project_id)
            db.commit()
            out["rollup_rebuild_s"] = round(time.perf_counter() - started, 1)
            log(f"rollup rebuild: {out['rollup_rebuild_s']} s")
        tables = db.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                 " AND tablename LIKE '%rollup%' ORDER BY tablename")
        ).all()  # fmt: skip
        out["rollup_rows"] = {
            table: db.scalar(text(f'SELECT count(*) FROM "{table}"'))  # noqa: S608
            for table in tables
        }
        log(f"rollup rows: {out['rollup_rows']}")
        if not options.no_rebuild:
            db.execute(text("ANALYZE " + ", ".join(f'"{table}"' for table in tables)))
            db.commit()
        project = db.get(Project, project_id)
        assert project is not None
        user = db.scalar(select(User).where(User.email == "bench@bench.example"))
        if user is None:
            user = create_user(db, "bench@bench.example", PASSWORD, name="Bench")
        set_membership(db, user, project, Role.OWNER)
        db.commit()
    if options.rebuild_only:
        runtime.close()
        return out

    today = datetime.now(ZoneInfo(ZONE_NAME)).date()
    wanted = [r for r in options.reports.split(",") if r] or ["overview", *catalog.REPORT_IDS]
    rows: list[dict[str, Any]] = []
    with TestClient(create_app(runtime, freeze_gc=True)) as client:  # as `serve` does
        log_in(client, "bench@bench.example")
        for report_id in wanted:
            for name, period, filters, query in variants(today):
                db = runtime.sessions()
                project = db.get(Project, project_id)

                def build(
                    report_id: str = report_id,
                    period: Any = period,
                    filters: Any = filters,
                    db: Any = db,
                    project: Any = project,
                ) -> None:
                    if report_id == "overview":
                        catalog.build_overview(db, project, period, filters)
                    else:
                        catalog.build_report(db, project, report_id, period, filters)
                    db.rollback()  # end the read, as a request does

                path = f"/p/{project_id}" + ("" if report_id == "overview"
                                             else f"/reports/{report_id}")  # fmt: skip

                def page(path: str = path, query: dict[str, str] = query) -> None:
                    response = client.get(path, params=query)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path} answered {response.status_code}")

                row: dict[str, Any] = {"report": report_id, "variant": name}
                row["rollups"] = timed(build, options.runs, options.warmup, options.budget)
                with forced_raw():
                    row["raw"] = timed(build, options.raw_runs, 0, options.raw_budget)
                row["page"] = timed(page, options.page_runs, 1, options.budget)
                row["raw_over_rollups"] = round(
                    row["raw"]["p50_ms"] / max(row["rollups"]["p50_ms"], 0.1), 1
                )
                db.close()
                rows.append(row)
                log(
                    f"{report_id:<12} {name:<24} rollups {row['rollups']['p95_ms']:>8} ms"
                    f"  raw {row['raw']['p95_ms']:>9} ms  page {row['page']['p95_ms']:>8} ms"
                    " (p95)"
                )
        out["reports"] = rows

        # New calls arrive: ingestion marks today stale, reports read today raw until the
        # rollup job refreshes it.
        out["ingest_20_calls_s"] = round(ingest_new_calls(runtime, project_id, 20), 2)
        with runtime.sessions() as db:
            out["dirty_days"] = len(rollups.dirty_days(db))
            overview_path = f"/p/{project_id}"
            out["overview_30_days_today_stale"] = timed(
                lambda: client.get(overview_path, params={"period": "last_30_days"}),
                options.page_runs, 1, 60,
            )  # fmt: skip
            started = time.perf_counter()
            out["refreshed_days"] = rollups.refresh_dirty(db)
            out["refresh_dirty_day_s"] = round(time.perf_counter() - started, 3)
            # A whole past day made stale (a re-import, a deal, a model switch):
            yesterday = today - timedelta(days=1)
            rollups.mark_days(db, [(project_id, yesterday)])
            db.commit()
            started = time.perf_counter()
            rollups.refresh_dirty(db)
            out["refresh_full_past_day_s"] = round(time.perf_counter() - started, 3)
    runtime.close()
    return out


def print_table(result: dict[str, Any]) -> None:
    """The generation steps and the figures, as plain text."""
    print()
    for name, seconds in result.get("generation_s", {}).items():
        print(f"{name:<40} {seconds:>8.1f} s")
    if "rollup_rebuild_s" in result:
        print(f"{'rollup rebuild':<40} {result['rollup_rebuild_s']:>8.1f} s")
    rows = result.get("reports", [])
    if rows:
        print()
        print(
            f"{'report':<12} {'variant':<24} {'rollups p50/p95':>17} {'raw p50/p95 (runs)':>24}"
            f" {'raw/rollups':>11} {'page p50/p95':>15} {'page p95<300':>12}"
        )
        for row in rows:
            up, raw, page = row["rollups"], row["raw"], row["page"]
            print(
                f"{row['report']:<12} {row['variant']:<24}"
                f" {up['p50_ms']:>8.0f}/{up['p95_ms']:<8.0f}"
                f" {raw['p50_ms']:>9.0f}/{raw['p95_ms']:<9.0f}({raw['runs']:>2})"
                f" {row['raw_over_rollups']:>10}x"
                f" {page['p50_ms']:>7.0f}/{page['p95_ms']:<7.0f}"
                f" {'yes' if page['p95_ms'] < 300 else 'NO':>12}"
            )
    for key in ("ingest_20_calls_s", "dirty_days", "refresh_dirty_day_s",
                "refresh_full_past_day_s"):  # fmt: skip
        if key in result:
            print(f"{key:<40} {result[key]}")
    if "overview_30_days_today_stale" in result:
        stale = result["overview_30_days_today_stale"]
        print(f"{'overview page, 30 days, today stale':<40} p50 {stale['p50_ms']} ms"
              f" / p95 {stale['p95_ms']} ms")  # fmt: skip


if __name__ == "__main__":
    main()
