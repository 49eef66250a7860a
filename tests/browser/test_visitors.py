"""t.js in Chromium against the live app: late content, one number per visitor, pool limits."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringtrail.storage.models import NumberLease, Visit
from tests.browser.conftest import (
    CO_UK,
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


def test_the_visitor_cookie_is_set_on_the_registrable_domain_of_a_co_uk_site(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db, pool=POOL, domains=(CO_UK,))
    html = page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key))
    site.add("/uk", html)
    context = new_context()

    www = shown_number(context, site.url("/uk", host=f"www.{CO_UK}"))
    shop = shown_number(context, site.url("/uk", host=f"shop.{CO_UK}"))

    (cookie,) = [c for c in context.cookies() if c["name"] == "_rt_vid"]
    assert cookie["domain"] == f".{CO_UK}"  # not ".co.uk", which the browser would refuse
    assert www == shop and www in POOL  # one visitor across the site's subdomains
    assert db.scalar(select(func.count()).select_from(NumberLease)) == 1


BLOCK_COOKIES = """
Object.defineProperty(Document.prototype, 'cookie', {
  configurable: true, get: function () { return ''; }, set: function () {}
});
"""


def test_with_cookies_blocked_the_visitor_id_is_kept_in_local_storage(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db, pool=POOL)
    html = page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key))
    urls = [site.add(f"/no-cookies-{n}", html) for n in (1, 2)]
    context = new_context()
    context.add_init_script(BLOCK_COOKIES)

    shown = [shown_number(context, url) for url in urls]

    assert shown[0] == shown[1]
    assert not [c for c in context.cookies() if c["name"] == "_rt_vid"]
    page = context.new_page()
    page.goto(urls[0])
    assert page.evaluate("localStorage.getItem('_rt_vid')")
    assert db.scalar(select(func.count()).select_from(NumberLease)) == 1


def set_visibility(page: Page, state: str) -> None:
    page.evaluate(
        """state => {
          const define = (name, value) =>
            Object.defineProperty(document, name, {configurable: true, get: () => value});
          define('visibilityState', state);
          define('hidden', state !== 'visible');
          document.dispatchEvent(new Event('visibilitychange'));
        }""",
        state,
    )


def wait_for_count(beats: list[str], expected: int) -> None:
    deadline = time.monotonic() + 3
    while len(beats) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # and nothing more arrives
    assert len(beats) == expected


def test_heartbeats_are_sent_only_while_the_tab_is_visible(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    url = site.add(
        "/beats", page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key))
    )
    watched = watch(new_context().new_page())
    page = watched.page
    beats: list[str] = []
    page.on("request", lambda r: beats.append(r.url) if "/t/v1/heartbeat" in r.url else None)
    page.clock.install()
    page.goto(url)
    wait_for_numbers(page)

    page.clock.fast_forward("00:31")
    wait_for_count(beats, 1)
    set_visibility(page, "hidden")
    for _ in range(4):
        page.clock.fast_forward("00:31")
    wait_for_count(beats, 1)  # two minutes hidden: no heartbeat
    set_visibility(page, "visible")
    wait_for_count(beats, 2)  # one at once on coming back
    page.clock.fast_forward("00:31")
    wait_for_count(beats, 3)
    assert watched.errors == []


ANALYTICS_COOKIES = {
    "_ga": "GA1.1.123456789.1700000000",
    "_ga_ABC123": "GS2.1.s1746000000$o3$g1$t1746000100$j0$l0$h0",
    "_gac_UA-1-1": "1.1700000000.Cj0KCQ-from-gac",
    "_gcl_aw": "GCL.1700000000.Cj0KCQ-from-gcl",
    "_fbp": "fb.1.1700000000000.1234567890",
    "_fbc": "fb.1.1700000000000.IwAR-click",
    "_ym_uid": "1700000000123456789",
}


def test_analytics_cookies_and_the_landing_page_reach_the_server_and_nothing_else(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    url = site.add(
        "/landing", page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key))
    )
    context = new_context()
    jar = {**ANALYTICS_COOKIES, "sessionid": "secret", "_gali": "x"}
    context.add_cookies([{"name": k, "value": v, "url": site.url("/")} for k, v in jar.items()])
    page = context.new_page()
    bodies: list[str] = []
    page.on(
        "request",
        lambda r: bodies.append(r.post_data or "") if r.url.endswith("/t/v1/visit") else None,
    )

    page.goto(url + "?utm_source=google&utm_medium=cpc")
    wait_for_numbers(page)

    (body,) = [json.loads(raw) for raw in bodies]
    assert body["cookies"] == ANALYTICS_COOKIES  # first-party session cookies stay home
    assert body["url"] == url + "?utm_source=google&utm_medium=cpc"
    db.expire_all()
    (visit,) = db.scalars(select(Visit))
    assert (visit.ga_client_id, visit.ym_uid) == ("123456789.1700000000", "1700000000123456789")
    assert visit.extra["ga_session_ids"] == {"ABC123": "1746000000"}
    assert visit.landing_path == "/landing" and visit.source == "google"


def test_a_visitor_token_from_before_a_key_change_is_replaced_and_still_tracked(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db, pool=POOL)
    url = site.add(
        "/rekeyed", page_html("<p id='phone'>+380441234567</p>" + tag(live_app, tracked.key))
    )
    context = new_context()
    stale = "abcdefghijklmnopqrstuv.signed-with-the-old-key"
    context.add_cookies([{"name": "_rt_vid", "value": stale, "url": url}])

    shown = shown_number(context, url)

    assert shown in POOL
    cookie = next(c for c in context.cookies(url) if c["name"] == "_rt_vid")
    assert cookie["value"] not in ("", stale)
