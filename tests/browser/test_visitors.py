"""t.js in Chromium against the live app: late content, one number per visitor, pool limits."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext
from sqlalchemy.orm import Session

from tests.browser.conftest import (
    SWAP_TIMEOUT_MS,
    LiveApp,
    Site,
    page_html,
    screenshot,
    set_up_site,
    tag,
    wait_for_numbers,
    watch,
)

POOL = ("+380445550001", "+380445550002", "+380445550003")

SPA = """
<div id="app"><p>Loading...</p></div>
<script>
  setTimeout(function () {
    var app = document.getElementById('app');
    app.textContent = '';
    var header = document.createElement('header');
    var link = document.createElement('a');
    link.id = 'spa-link';
    link.href = 'tel:+380441234567';
    link.textContent = '+38 (044) 123-45-67';
    header.appendChild(link);
    app.appendChild(header);
  }, 500);
  setTimeout(function () {
    var popup = document.createElement('div');
    popup.id = 'popup';
    popup.innerHTML = '<h2>Call us back</h2><p>Or dial <b>044</b> <b>123 45 67</b></p>';
    document.body.appendChild(popup);
  }, 2000);
</script>
"""


def shown_number(context: BrowserContext, url: str) -> str:
    """Open `url` in `context` and return the number the script applied there."""
    page = context.new_page()
    page.goto(url)
    numbers = wait_for_numbers(page)
    assert page.inner_text("#phone") == numbers[0]["number"]
    page.close()
    return numbers[0]["number"]


def test_content_rendered_after_load_and_a_late_popup_are_swapped(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    url = site.add("/spa", page_html(SPA + tag(live_app, tracked.key)))
    watched = watch(new_context().new_page())
    page = watched.page

    page.goto(url)
    wait_for_numbers(page)

    page.wait_for_selector("#spa-link", timeout=SWAP_TIMEOUT_MS)
    page.wait_for_function(
        "() => document.getElementById('spa-link').textContent === '+38 (044) 555-00-01'",
        timeout=SWAP_TIMEOUT_MS,
    )
    assert page.get_attribute("#spa-link", "href") == "tel:+380445550001"
    page.wait_for_selector("#popup", timeout=SWAP_TIMEOUT_MS)
    page.wait_for_function(
        "() => document.querySelector('#popup p').textContent === 'Or dial 044 555 00 01'",
        timeout=SWAP_TIMEOUT_MS,
    )
    assert watched.errors == []
    screenshot(page, "swapped-spa-popup")


def test_a_framework_rewriting_the_original_back_is_swapped_again(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    url = site.add(
        "/rerender", page_html("<p id='phone'>044 123 45 67</p>" + tag(live_app, tracked.key))
    )
    page = new_context().new_page()
    page.goto(url)
    wait_for_numbers(page)
    assert page.inner_text("#phone") == "044 555 00 01"

    page.evaluate("document.getElementById('phone').firstChild.data = '(044) 123-45-67'")

    page.wait_for_function(
        "() => document.getElementById('phone').textContent === '(044) 555-00-01'",
        timeout=SWAP_TIMEOUT_MS,
    )


def test_run_and_on_number_serve_single_page_apps(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    body = (
        "<p id='phone'>044 123 45 67</p>"
        "<script>window.seen = []; document.addEventListener('ringtrail:numbers',"
        " function (e) { window.seen.push(['event', e.detail[0].number]); });</script>"
        + tag(live_app, tracked.key)
    )
    url = site.add("/api", page_html(body))
    page = new_context().new_page()
    page.goto(url)
    wait_for_numbers(page)

    page.evaluate(
        "window.ringtrail.onNumber(function (numbers) {"
        " window.seen.push(['callback', numbers[0].number]); })"
    )
    page.evaluate(
        "(() => { const el = document.createElement('p'); el.id = 'late';"
        " el.textContent = '8 (044) 123-45-67'; document.body.appendChild(el);"
        " window.ringtrail.run(el); window.afterRun = el.textContent; })()"
    )

    assert page.evaluate("window.afterRun") == "8 (044) 555-00-01"
    assert page.evaluate("window.seen") == [
        ["event", "+380445550001"],
        ["callback", "+380445550001"],
    ]


def test_two_visitors_see_different_numbers(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db, pool=POOL)
    url = site.add(
        "/two", page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key))
    )

    first = shown_number(new_context(), url)
    second = shown_number(new_context(), url)

    assert first != second
    assert {first, second} <= set(POOL)


def test_a_visitor_keeps_one_number_across_pages(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db, pool=POOL)
    html = page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key))
    urls = [site.add(f"/page-{n}", html) for n in (1, 2, 3)]
    context = new_context()

    shown = [shown_number(context, url) for url in urls]

    assert len(set(shown)) == 1
    assert shown[0] in POOL
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["_rt_vid"]["path"] == "/"
    assert cookies["_rt_vid"]["sameSite"] == "Lax"
    assert cookies["_rt_vid"]["domain"] == "127.0.0.1"  # host-only: no registrable domain


def test_with_the_pool_exhausted_the_default_number_shows(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db, pool=("+380445550001",), default="+380445559999")
    url = site.add(
        "/full", page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key))
    )

    first_page = new_context().new_page()
    first_page.goto(url)
    second_page = new_context().new_page()
    first = wait_for_numbers(first_page)
    second_page.goto(url)
    second = wait_for_numbers(second_page)

    assert (first[0]["number"], first[0]["kind"]) == ("+380445550001", "pool")
    assert (second[0]["number"], second[0]["kind"]) == ("+380445559999", "default")
    assert second_page.inner_text("#phone") == "+380445559999"


def test_the_tag_included_twice_runs_once(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    body = (
        tag(live_app, tracked.key) + "<p id='phone'>044 123 45 67</p>" + tag(live_app, tracked.key)
    )
    url = site.add("/twice", page_html(body))
    watched = watch(new_context().new_page())

    watched.page.goto(url)
    wait_for_numbers(watched.page)
    watched.page.wait_for_load_state("networkidle")

    assert len(watched.visit_requests) == 1
    assert watched.page.inner_text("#phone") == "044 555 00 01"
    assert watched.errors == []
