"""Pool health as a report: each active pool's utilisation now, overflows and advised size."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ringtrail.leases.sql import SqlLeaseBackend
from ringtrail.services.pool_health import pool_health
from ringtrail.services.reports.context import ReportContext, headline
from ringtrail.services.reports.model import (
    N_,
    Chart,
    ChartKind,
    Column,
    Report,
    Row,
    Table,
    ValueKind,
)
from ringtrail.storage.models import Pool


def pool_health_report(context: ReportContext) -> Report:
    """Every active pool: numbers, held, cooling, available, utilisation, overflows, size."""
    db = context.db
    backend = context.lease_backend or SqlLeaseBackend(db.get_bind().engine)
    now = context.now or datetime.now(UTC)
    pools = db.scalars(
        select(Pool)
        .where(Pool.project_id == context.project.id, Pool.is_active.is_(True))
        .order_by(Pool.name, Pool.id)
    )
    rows = []
    for pool in pools:
        health = pool_health(db, backend, context.project, pool, now)
        census = health.census
        rows.append(
            Row(
                {
                    "pool": pool.name,
                    "numbers": census.numbers,
                    "held": census.held,
                    "cooling": census.cooling,
                    "available": census.available,
                    "utilisation": census.utilisation,
                    "overflows_24h": health.overflows_last_24h,
                    "overflows_7d": health.overflows_last_7d,
                    "recommended_size": health.recommended_size,
                }
            )
        )
    sums = {
        key: sum(row.cells[key] for row in rows)
        for key in ("numbers", "held", "cooling", "available", "overflows_24h", "overflows_7d")
    }
    table = Table(
        "pools",
        N_("Pools"),
        [
            Column("pool", N_("Pool"), ValueKind.TEXT),
            Column("numbers", N_("Numbers"), ValueKind.COUNT),
            Column("held", N_("Held"), ValueKind.COUNT),
            Column("cooling", N_("Cooling down"), ValueKind.COUNT),
            Column("available", N_("Available"), ValueKind.COUNT),
            Column("utilisation", N_("Utilisation"), ValueKind.SHARE),
            Column("overflows_24h", N_("Overflows, last 24 hours"), ValueKind.COUNT),
            Column("overflows_7d", N_("Overflows, last 7 days"), ValueKind.COUNT),
            Column("recommended_size", N_("Recommended size"), ValueKind.COUNT),
        ],
        rows,
        {"pool": N_("Total"), **sums},
    )
    return context.report(
        "pool_health",
        headlines=[
            headline("pools", N_("Active pools"), ValueKind.COUNT, len(rows)),
            headline(
                "overflows_7d", N_("Overflows, last 7 days"), ValueKind.COUNT, sums["overflows_7d"]
            ),
        ],
        tables=[table],
        charts=[Chart(ChartKind.BAR, "pools", "pool", ["utilisation"], N_("Utilisation"))],
        notes=[
            N_(
                "Pool health is the state now and over the last 7 days, whatever the period; "
                "an overflow is a visitor who found every number of the pool taken."
            )
        ],
    )
