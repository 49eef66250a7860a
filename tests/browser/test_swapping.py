"""t.js in Chromium: which numbers it finds on a page, how it writes them, what it never touches."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext
from sqlalchemy.orm import Session

from tests.browser.conftest import (
    LiveApp,
    Site,
    page_html,
    screenshot,
    set_up_site,
    tag,
    wait_for_numbers,
    watch,
)

UA_FORMATS = [
    ("+380441234567", "+380445550001"),
    ("+380 44 123 45 67", "+380 44 555 00 01"),
    ("+38 (044) 123-45-67", "+38 (044) 555-00-01"),
    ("+38 044 123 45 67", "+38 044 555 00 01"),
    ("8 (044) 123-45-67", "8 (044) 555-00-01"),
    ("044 123 45 67", "044 555 00 01"),
    ("(044) 123-45-67", "(044) 555-00-01"),
    ("044.123.45.67", "044.555.00.01"),
    ("0441234567", "0445550001"),
    ("044-123-4567", "044-555-0001"),
    ("00380 44 123 4567", "00380 44 555 0001"),
    ("044\u00a0123\u00a045\u00a067", "044\u00a0555\u00a000\u00a001"),
    ("+380 44 765 43 21", "+380 44 555 00 01"),  # the second original number
    ("Office 12, tel. 044 123 45 67.", "Office 12, tel. 044 555 00 01."),
]
US_FORMATS = [
    ("(212) 555-0123", "(212) 736-0101"),
    ("212-555-0123", "212-736-0101"),
    ("212.555.0123", "212.736.0101"),
    ("+1 212 555 0123", "+1 212 736 0101"),
    ("1-212-555-0123", "1-212-736-0101"),
    ("+1 (212) 555-0123", "+1 (212) 736-0101"),
    ("2125550123", "2127360101"),
]
NOT_NUMBERS = [
    "Order 380441234567890",  # longer digit run that merely contains the number
    "Ref 12380441234567",
    "044 123 45 678",
    "Call 044 123 45 66",
]


def rows(cases: list[tuple[str, str]]) -> str:
    return "".join(f"<p class='case'>{original}</p>" for original, _ in cases)


def test_numbers_in_every_written_format_are_swapped_keeping_the_format(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    body = rows(UA_FORMATS) + "".join(f"<p class='keep'>{text}</p>" for text in NOT_NUMBERS)
    url = site.add("/formats", page_html(body + tag(live_app, tracked.key)))
    watched = watch(new_context().new_page())

    watched.page.goto(url)
    numbers = wait_for_numbers(watched.page)

    assert numbers == [
        {"original": "+380441234567", "number": "+380445550001", "kind": "pool"},
        {"original": "+380447654321", "number": "+380445550001", "kind": "pool"},
    ]
    shown = watched.page.locator("p.case").all_inner_texts()
    assert shown == [expected for _, expected in UA_FORMATS]
    kept = watched.page.locator("p.keep").all_inner_texts()
    assert kept == NOT_NUMBERS
    assert watched.page.title() == "Call +380441234567"  # <title> is left alone
    assert watched.errors == []
    screenshot(watched.page, "swapped-formats-ua")


def test_us_formats_are_swapped(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(
        db,
        name="US Shop",
        country="US",
        main="+12125550123",
        extra=(),
        pool=("+12127360101",),
        default="+12127360199",
    )
    links = "<a id='us-tel' href='tel:1-212-555-0123'>call</a>"
    url = site.add("/us", page_html(rows(US_FORMATS) + links + tag(live_app, tracked.key)))
    page = new_context().new_page()

    page.goto(url)
    wait_for_numbers(page)

    assert page.locator("p.case").all_inner_texts() == [expected for _, expected in US_FORMATS]
    assert page.get_attribute("#us-tel", "href") == "tel:+12127360101"
    screenshot(page, "swapped-formats-us")


def test_numbers_split_across_inline_elements_are_swapped_piece_by_piece(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    body = (
        "<p id='two'><span>+38 044</span><span> 123-45-67</span></p>"
        "<p id='deep'><a href='#'><b>044</b> <i>123</i> <u>45 <em>67</em></u></a></p>"
        "<p id='blocks'><span>044</span></p><p id='other'>123 45 67</p>"
    )
    url = site.add("/split", page_html(body + tag(live_app, tracked.key)))
    page = new_context().new_page()

    page.goto(url)
    wait_for_numbers(page)

    assert page.locator("#two span").all_inner_texts() == ["+38 044", " 555-00-01"]
    assert page.inner_text("#deep") == "044 555 00 01"
    assert page.locator("#deep em").inner_text() == "01"
    # separate paragraphs never form one number
    assert page.inner_text("#blocks") == "044"
    assert page.inner_text("#other") == "123 45 67"


def test_tel_links_and_titles_point_at_the_tracking_number(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    hrefs = [
        "tel:+380441234567",
        "tel:0441234567",
        "tel:+38%20044%20123%2045%2067",
        "tel:8-044-123-45-67",
        "TEL:+380447654321",
        "callto:+380441234567",
    ]
    body = "".join(f"<a class='tel' href='{href}'>Call us</a> " for href in hrefs)
    body += "<a id='other' href='tel:+380449999999'>Other</a>"
    body += "<abbr id='titled' title='Call +38 044 123 45 67'>Phone</abbr>"
    url = site.add("/links", page_html(body + tag(live_app, tracked.key)))
    page = new_context().new_page()

    page.goto(url)
    wait_for_numbers(page)

    got = page.eval_on_selector_all("a.tel", "links => links.map(a => a.getAttribute('href'))")
    assert got == ["tel:+380445550001"] * 4 + ["TEL:+380445550001", "callto:+380445550001"]
    assert page.get_attribute("#other", "href") == "tel:+380449999999"
    assert page.get_attribute("#titled", "title") == "Call +38 044 555 00 01"


def test_marked_phone_elements_get_the_number_even_in_an_unknown_format(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db, selectors=(".js-phone",))
    body = (
        "<span id='placeholder' class='js-phone'>+38 (050) 000-00-00</span>"
        "<span id='marked' data-ringtrail-phone>(050) 000-00-00</span>"
        "<a id='button' data-ringtrail-phone href='tel:+380500000000'>Call now</a>"
        "<span id='plain'>(050) 000-00-00</span>"
    )
    url = site.add("/marked", page_html(body + tag(live_app, tracked.key)))
    page = new_context().new_page()

    page.goto(url)
    wait_for_numbers(page)

    assert page.inner_text("#placeholder") == "+38 (044) 555-00-01"
    assert page.inner_text("#marked") == "(044) 555-00-01"
    assert page.get_attribute("#button", "href") == "tel:+380445550001"
    assert page.inner_text("#button") == "Call now"
    assert page.inner_text("#plain") == "(050) 000-00-00"


def test_inputs_textareas_scripts_and_editable_content_are_never_changed(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    body = (
        "<p id='visible'>044 123 45 67</p>"
        "<input id='input' value='044 123 45 67'>"
        "<textarea id='area'>044 123 45 67</textarea>"
        "<select id='select'><option>044 123 45 67</option></select>"
        "<div id='editable' contenteditable='true'>044 123 45 67</div>"
        "<div id='ignored' data-ringtrail-ignore><b>044 123 45 67</b></div>"
        "<noscript><p>044 123 45 67</p></noscript>"
        "<template id='template'><p>044 123 45 67</p></template>"
        "<script id='data' type='application/json'>{\"phone\": \"+380441234567\"}</script>"
        "<style id='style'>.x::after { content: '044 123 45 67'; }</style>"
    )
    url = site.add("/untouched", page_html(body + tag(live_app, tracked.key)))
    page = new_context().new_page()

    page.goto(url)
    wait_for_numbers(page)

    assert page.inner_text("#visible") == "044 555 00 01"
    assert page.input_value("#input") == "044 123 45 67"
    assert page.get_attribute("#input", "value") == "044 123 45 67"
    assert page.input_value("#area") == "044 123 45 67"
    assert page.inner_text("#select option") == "044 123 45 67"
    assert page.inner_text("#editable") == "044 123 45 67"
    assert page.inner_text("#ignored") == "044 123 45 67"
    assert page.evaluate("document.querySelector('noscript').textContent") == (
        "<p>044 123 45 67</p>"
    )
    template = "document.getElementById('template').content.textContent"
    assert page.evaluate(template) == "044 123 45 67"
    assert page.evaluate("document.getElementById('data').textContent") == (
        '{"phone": "+380441234567"}'
    )
    assert "044 123 45 67" in page.evaluate("document.getElementById('style').textContent")


def test_open_shadow_roots_are_swapped_and_closed_ones_are_out_of_reach(
    db: Session, live_app: LiveApp, site: Site, new_context: Callable[[], BrowserContext]
) -> None:
    tracked = set_up_site(db)
    body = (
        "<div id='open'></div><div id='closed'></div>"
        "<script>"
        "document.getElementById('open').attachShadow({mode: 'open'}).innerHTML ="
        " '<p>044 123 45 67</p>';"
        "window.closedRoot = document.getElementById('closed').attachShadow({mode: 'closed'});"
        "window.closedRoot.innerHTML = '<p>044 123 45 67</p>';"
        "</script>"
    )
    url = site.add("/shadow", page_html(body + tag(live_app, tracked.key)))
    page = new_context().new_page()

    page.goto(url)
    wait_for_numbers(page)

    open_text = "document.getElementById('open').shadowRoot.textContent"
    assert page.evaluate(open_text) == "044 555 00 01"
    assert page.evaluate("window.closedRoot.textContent") == "044 123 45 67"
