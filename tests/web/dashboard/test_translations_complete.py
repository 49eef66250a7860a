"""Every string the dashboard can show is translated into Russian and Ukrainian, and the key
pages in those languages show no English label or stored English code.

That every message id in the code has a translation is test_i18n's check; this one renders
pages on the demo data and reads their text: a text that is exactly an English message id
(whose translation differs) or a stored code (a call status, event type, hold phase, rule
field) was left untranslated.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringtrail.demo.catalog import DEMO_EMAIL, DEMO_PASSWORD
from ringtrail.demo.generator import generate_demo
from ringtrail.domain.attribution import HoldPhase
from ringtrail.domain.calls import CallEventKind, CallStatus
from ringtrail.domain.source_rules import CONDITION_FIELDS
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.settings import Settings
from ringtrail.storage.models import Call, CallEvent, CallScore, SourceRule
from ringtrail.web.app import create_app
from ringtrail.web.dashboard import i18n
from tests.conftest import empty_all_tables
from tests.web.dashboard.browser import log_in

DASHBOARD = Path(i18n.__file__).parent
TRANSLATED = ("ru", "uk")
NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
PERIOD = "from=2026-02-17&to=2026-03-18"
CODES = {
    *(status.value for status in CallStatus),
    *(kind.value for kind in CallEventKind),
    *(phase.value for phase in HoldPhase),
    *CONDITION_FIELDS,
    "user",
    "model",
}


def _catalog(locale: str) -> dict[str, str]:
    path = DASHBOARD / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    found = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            found[key] = strings[0]
    return found


class _Text(HTMLParser):
    """The page's visible text nodes (not scripts, styles, code or hidden inputs)."""

    SKIP = {"script", "style", "code", "title"}

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skipping:
            self.texts.append(text)


@pytest.fixture(scope="module")
def demo(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The demo's 30 days, with a call that has events, candidates and a judgement."""
    runtime = bootstrap(
        Settings(
            database_url=database_url,
            data_dir=tmp_path_factory.mktemp("translations"),
            secret_key="test-secret-key-not-for-production",
        )
    )
    try:
        with runtime.sessions() as db:
            generate_demo(db, NOW, days=30, seed=3)
            call = db.scalars(select(Call).order_by(Call.started_at.desc())).first()
            assert call is not None
            call.candidates = [
                {"visit_id": 1, "share": 0.8, "source": "google", "phase": HoldPhase.LIVE.value},
                {"visit_id": 2, "share": 0.2, "source": "bing", "phase": HoldPhase.GRACE.value},
            ]
            for offset, kind in enumerate(CallEventKind):
                at = call.started_at + timedelta(seconds=offset)
                db.add(
                    CallEvent(
                        project_id=call.project_id,
                        call_id=call.id,
                        provider="twilio",
                        dedupe_key=f"translations:{call.id}:{kind.value}",
                        event_type=kind.value,
                        occurred_at=at,
                        received_at=at,
                        payload={},
                    )
                )
            db.add(CallScore(call_id=call.id, scored_by="user", label="target"))
            db.commit()
        yield runtime
    finally:
        empty_all_tables(runtime)
        runtime.close()


def _pages(runtime: Runtime) -> tuple[list[str], set[str]]:
    """The pages to read, and the texts that are the project's own data (rule names)."""
    with runtime.sessions() as db:
        call = db.scalars(select(Call).order_by(Call.started_at.desc())).first()
        assert call is not None
        project = call.project_id
        rules = db.scalars(select(SourceRule).where(SourceRule.project_id == project)).all()
        assert rules, "the demo has source rules"
        names = {rule.name for rule in rules}
    base = f"/p/{project}"
    pages = [
        f"{base}?{PERIOD}",
        f"{base}/reports/missed?{PERIOD}",
        f"{base}/reports/lead_mix?{PERIOD}",
        f"{base}/reports/uniqueness?{PERIOD}",
        f"{base}/reports/heatmap?{PERIOD}",
        f"{base}/calls?{PERIOD}",
        f"{base}/calls/{call.id}",
        f"{base}/settings/rules",
        f"{base}/leads",
        f"{base}/settings/forms",
    ]
    return pages, names


@pytest.mark.parametrize("locale", TRANSLATED)
def test_key_pages_show_no_english_label_or_stored_code(demo: Runtime, locale: str) -> None:
    client = TestClient(create_app(demo))
    assert log_in(client, email=DEMO_EMAIL, password=DEMO_PASSWORD).status_code == 303
    translated = {english: text for english, text in _catalog(locale).items() if text != english}
    leaks = []
    pages, data = _pages(demo)
    for path in pages:
        response = client.get(f"{path}{'&' if '?' in path else '?'}lang={locale}")
        assert response.status_code == 200, path
        reader = _Text()
        reader.feed(response.text)
        for text in reader.texts:
            bare = text.strip(" ()·:—")
            if (bare in translated or bare in CODES) and bare not in data:
                leaks.append(f"{path}: {text!r}")
    assert leaks == []
