"""The call page names the attribution kind in the reader's language, never the stored word."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.attribution import AttributionKind
from ringtrail.services.call_labels import ATTRIBUTION_LABELS
from tests.call_rows import add_call
from tests.conftest import World
from tests.web.dashboard.browser import log_in

LABELS = {
    "en": "Site visit: the visitor who held the number",
    "ru": "Визит на сайт: посетитель, за которым был номер",
    "uk": "Візит на сайт: відвідувач, за яким був номер",
}


def test_every_kind_has_a_label() -> None:
    assert set(ATTRIBUTION_LABELS) == set(AttributionKind)


@pytest.mark.parametrize("locale", sorted(LABELS))
def test_the_call_page_shows_the_translated_kind(
    client: TestClient, world: World, db: Session, locale: str
) -> None:
    call = add_call(db, world.ours.project, attribution_kind=AttributionKind.SESSION.value)
    db.commit()
    log_in(client)
    page = client.get(f"/p/{world.ours.project.id}/calls/{call.id}?lang={locale}").text
    trace = page[page.index('class="card call-trace"') :]
    assert f"<dd>{LABELS[locale]}</dd>" in trace
    assert "<dd>session</dd>" not in trace
