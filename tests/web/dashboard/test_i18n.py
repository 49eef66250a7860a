"""The catalogs are complete and current; locale negotiation picks what people asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from ringtrail.web.dashboard import i18n
from ringtrail.web.dashboard.i18n import (
    Catalogs,
    choose_locale,
    negotiate_locale,
    parse_accept_language,
)

DASHBOARD = Path(i18n.__file__).parent
LOCALES = DASHBOARD / "locales"
# Where `pybabel extract` looks (docs/dashboard.md): the dashboard, and the services whose
# labels (report columns, export headers...) are marked with `N_` and translated at render time.
SOURCES = [DASHBOARD, DASHBOARD.parent.parent / "services"]
TRANSLATED = [locale for locale in i18n.SUPPORTED_LOCALES if locale != i18n.SOURCE_LOCALE]


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _ids(catalog: Catalog) -> set[str]:
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalog
        if message.id
    }


def _strings_in_the_code() -> set[str]:
    with (DASHBOARD / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    return {
        message if isinstance(message, str) else message[0]
        for source in SOURCES
        for _, _, message, _, _ in extract_from_dir(str(source), method_map, options_map)
    }


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_has_a_translation(locale: str) -> None:
    catalog = _read(LOCALES / locale / "LC_MESSAGES" / "messages.po", locale)
    untranslated = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            untranslated.append(message.id)
    assert untranslated == []
    assert len(_ids(catalog)) > 0


@pytest.mark.parametrize("locale", TRANSLATED)
def test_plural_messages_have_every_plural_form(locale: str) -> None:
    catalog = _read(LOCALES / locale / "LC_MESSAGES" / "messages.po", locale)
    for message in catalog:
        if message.id and message.pluralizable:
            assert isinstance(message.string, tuple), message.id
            assert len(message.string) == catalog.num_plurals, message.id


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogs_hold_exactly_the_templates_messages(locale: str) -> None:
    template = _ids(_read(LOCALES / "messages.pot"))
    catalog = _ids(_read(LOCALES / locale / "LC_MESSAGES" / "messages.po", locale))
    assert catalog == template


def test_the_message_template_is_current_with_the_code() -> None:
    assert _strings_in_the_code() == _ids(_read(LOCALES / "messages.pot"))


def test_catalogs_compile_and_translate() -> None:
    catalogs = Catalogs.load("en")
    assert catalogs.get("ru").gettext("Sign out") == "Выйти"
    assert catalogs.get("uk").gettext("Sign out") == "Вийти"
    assert catalogs.get("en").gettext("Sign out") == "Sign out"
    minutes = "Too many failed attempts. Try again in %(count)s minute."
    plural = "Too many failed attempts. Try again in %(count)s minutes."
    assert "хвилини" in catalogs.get("uk").ngettext(minutes, plural, 3)
    assert "минут" in catalogs.get("ru").ngettext(minutes, plural, 5)


def test_unknown_locale_falls_back_to_the_default_catalog() -> None:
    assert Catalogs.load("uk").get("de").gettext("Sign out") == "Вийти"


def test_accept_language_is_ordered_by_quality_then_position() -> None:
    header = "en;q=0.5, uk-UA, ru;q=0.9, de;q=0"
    assert parse_accept_language(header) == ["uk-UA", "ru", "en"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("uk", "uk"),
        ("de-DE, uk;q=0.3", "uk"),
        ("en-GB", "en"),
        ("de, fr", None),
        ("", None),
        (None, None),
        ("ru;q=abc, uk;q=0.1", "uk"),
    ],
)
def test_negotiation_takes_the_first_supported_language(
    header: str | None, expected: str | None
) -> None:
    assert negotiate_locale(header) == expected


def test_locale_choice_prefers_query_then_account_then_session_then_browser() -> None:
    everything: dict[str, str | None] = {
        "query": "uk",
        "user_locale": "ru",
        "session_locale": "en",
        "accept_language": "ru",
        "default": "en",
    }
    assert choose_locale(**everything) == "uk"  # type: ignore[arg-type]
    assert choose_locale(**{**everything, "query": None}) == "ru"  # type: ignore[arg-type]
    without_account = {**everything, "query": "xx", "user_locale": None}
    assert choose_locale(**without_account) == "en"  # type: ignore[arg-type]
    assert (
        choose_locale(
            query=None, user_locale=None, session_locale=None, accept_language="uk", default="ru"
        )
        == "uk"
    )
    assert (
        choose_locale(
            query=None, user_locale=None, session_locale=None, accept_language=None, default="ru"
        )
        == "ru"
    )
