"""Lead quality → Classifier in a real browser: label calls from the suggestions, train, read
the figures, switch on; new calls get the model's labels with their confidence; a person
overrides one in the calls log and the override wins."""

# ruff: noqa: RUF001  (Ukrainian transcripts on purpose)
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import BrowserContext, Page
from sqlalchemy.orm import Session

from ringtrail.jobs.scoring import score_and_retrain
from ringtrail.runtime import Runtime
from ringtrail.storage.models import Call
from tests.browser.accessibility import axe_violations, describe
from tests.browser.conftest import LiveApp
from tests.call_rows import T0
from tests.conftest import PASSWORD, World
from tests.scoring_data import add_labelled_calls, add_transcribed_call, transcript


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")


def _suggested(page: Page) -> list[int]:
    rows = page.locator("#label-next tbody tr").all()
    return [int((row.get_attribute("id") or "").removeprefix("suggested-")) for row in rows]


def test_label_train_switch_on_and_a_persons_override_wins(
    live_app: LiveApp,
    runtime: Runtime,
    db: Session,
    world: World,
    new_context: Callable[[], BrowserContext],
) -> None:
    project = world.ours.project
    add_labelled_calls(db, project, 24, user_id=world.ours.owner.id)
    rng = random.Random(5)
    truth: dict[int, bool] = {}
    for index in range(8):
        target = index % 2 == 0
        call = add_transcribed_call(db, project, transcript(rng, target))
        truth[call.id] = target
    db.commit()

    page = new_context().new_page()
    page.set_default_timeout(30_000)
    _log_in(page, live_app.base, world.ours.owner.email)
    url = f"{live_app.base}/p/{project.id}/lead-quality/classifier"
    page.goto(url)
    assert "8 target and 16 not target" in page.locator("#classifier-state").inner_text()
    assert page.locator("#classifier-off").is_visible()

    # Label the first suggestion through its buttons: it leaves the list.
    before = _suggested(page)
    assert before and set(before) <= set(truth)
    first = before[0]
    button = "true" if truth[first] else "false"
    with page.expect_navigation():
        page.click(f"#suggested-{first} button[value='{button}']")
    assert "9 target" in page.locator("#classifier-state").inner_text() or truth[first] is False
    assert first not in _suggested(page)

    # Train: the figures appear, with intervals, the curve and the confusion matrix.
    with page.expect_navigation():
        page.click("#train-model")
    metrics = page.locator("#classifier-metrics").inner_text()
    assert "Accuracy" in metrics and "%" in metrics
    assert "25 labelled calls" in page.locator("#figures-source").inner_text()
    assert page.locator("#confusion-matrix tbody tr").count() == 2
    assert page.locator("#curve-summary").inner_text().count("labels:") >= 2
    assert page.locator("figure.chart img").get_attribute("src", timeout=5_000) is not None

    # Switch on with a threshold the model's clear calls pass.
    with page.expect_navigation():
        page.click("#switch-on")
    assert page.locator("#classifier-on").is_visible()
    page.fill("#threshold", "0.6")
    with page.expect_navigation():
        page.click("form[action$='/threshold'] button[type=submit]")
    assert "threshold 0.60" in page.locator("#classifier-figures").inner_text()

    # New calls end; the job lets the model judge them.
    fresh = [
        add_transcribed_call(db, project, "скільки коштує квартира. хочу купити квартиру",
                             started_at=T0 + timedelta(days=1)),
        add_transcribed_call(db, project, "у мене зламалося опалення. поверніть гроші",
                             started_at=T0 + timedelta(days=1, hours=1)),
    ]  # fmt: skip
    db.commit()
    report = score_and_retrain(runtime.sessions, T0 + timedelta(days=1, hours=2))
    assert report.marked >= 2
    page.goto(url)
    for call in fresh:
        row = page.locator(f"#judged-{call.id}").inner_text()
        assert "by the model" in row and "%" in row
    assert "Target" in page.locator(f"#judged-{fresh[0].id}").inner_text()

    # A person marks the first one not target in the calls log; the mark wins, even after
    # the model's next pass.
    page.goto(f"{live_app.base}/p/{project.id}/calls/{fresh[0].id}")
    with page.expect_navigation():
        page.click("form[action$='/target'] button[value='false']")
    score_and_retrain(runtime.sessions, T0 + timedelta(days=1, hours=3))
    page.goto(url)
    overridden = page.locator(f"#judged-{fresh[0].id}").inner_text()
    assert "Not target (by a person)" in overridden
    # With figures, suggestions and judged calls all on it, the page passes axe (WCAG 2.1 AA).
    assert describe("classifier", axe_violations(page)) == []
    db.expire_all()
    call = db.get(Call, fresh[0].id)
    assert call is not None and (call.is_target, call.target_set_by) == (False, "user")
