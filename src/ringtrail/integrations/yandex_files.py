"""Calls as Yandex Metrica's offline calls CSV (one file = one upload = one id type).

    ClientId,DateTime,PhoneNumber,TalkDuration,HoldDuration,CallMissed,Tag,FirstTimeCaller,URL,CallTrackerURL,StaticCall,Price,Currency
    1628529640459314054,1790184100,+380501234567,95,7,0,Target call,1,https://example.ua/,,0,150.00,UAH

The id column is `ClientId` (the `_ym_uid` cookie) or `Yclid`; `DateTime` is Unix seconds
(UTC); `PhoneNumber` has the country code and no spaces; durations are seconds; flags 1/0;
`Price` has a dot. Every call of a file must carry the file's id type. The calls are dynamic
(`StaticCall` 0): Ringtrail ties each to the visit that saw the number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ringtrail.domain.click_windows import YandexId, YandexIdKind

ID_COLUMN: dict[YandexIdKind, str] = {"CLIENT_ID": "ClientId", "YCLID": "Yclid"}
COLUMNS = (
    "DateTime",
    "PhoneNumber",
    "TalkDuration",
    "HoldDuration",
    "CallMissed",
    "Tag",
    "FirstTimeCaller",
    "URL",
    "CallTrackerURL",
    "StaticCall",
    "Price",
    "Currency",
)
"""The columns after the id column, in the order Ringtrail writes them."""


@dataclass(frozen=True)
class YandexCallRow:
    """One call as Metrica reads it."""

    visitor: YandexId
    called_at: datetime
    phone: str | None
    talk_seconds: int | None
    hold_seconds: int | None
    missed: bool
    tag: str
    first_time: bool | None
    url: str
    tracker_url: str
    price: Decimal | None
    currency: str

    def cells(self) -> dict[str, str]:
        """The row's cells by column name (the id column under its own name)."""
        return {
            ID_COLUMN[self.visitor.kind]: self.visitor.value,
            "DateTime": str(int(self.called_at.timestamp())),
            "PhoneNumber": (self.phone or "").replace(" ", ""),
            "TalkDuration": _count(self.talk_seconds),
            "HoldDuration": _count(self.hold_seconds),
            "CallMissed": "1" if self.missed else "0",
            "Tag": self.tag,
            "FirstTimeCaller": "" if self.first_time is None else ("1" if self.first_time else "0"),
            "URL": self.url,
            "CallTrackerURL": self.tracker_url,
            "StaticCall": "0",
            "Price": "" if self.price is None else f"{self.price.quantize(Decimal('0.01'))}",
            "Currency": self.currency if self.price is not None else "",
        }


def _count(value: int | None) -> str:
    return "" if value is None else str(max(int(value), 0))


def header(kind: YandexIdKind) -> tuple[str, ...]:
    return (ID_COLUMN[kind], *COLUMNS)


def calls_csv(rows: list[YandexCallRow], kind: YandexIdKind) -> str:
    """The upload file for `kind`; rows of another id type are a programming error."""
    columns = header(kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        if row.visitor.kind != kind:
            raise ValueError(f"a {row.visitor.kind} row in a {kind} file")
        cells = row.cells()
        writer.writerow([cells[column] for column in columns])
    return out.getvalue()
