"""Dashboard languages: the gettext catalogs, loaded from `.po` sources, and locale negotiation."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LOCALE = "en"
# Each language names itself in the switcher, so a reader lost in a foreign UI still finds theirs.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "ru": "Русский", "uk": "Українська"}
SUPPORTED_LOCALES: tuple[str, ...] = tuple(LANGUAGE_NAMES)


def compile_catalog(po_path: Path) -> gettext.GNUTranslations:
    """Compile one `.po` source in memory into translations gettext can use."""
    stat = po_path.stat()
    return gettext.GNUTranslations(BytesIO(_compiled(po_path, stat.st_mtime_ns, stat.st_size)))


@lru_cache(maxsize=16)
def _compiled(po_path: Path, mtime_ns: int, size: int) -> bytes:
    """The `.mo` bytes of a `.po` source, once per version of the file: parsing the sources
    costs a third of a second, and every app (a test builds many) loads the catalogs."""
    with po_path.open("rb") as source:
        catalog = read_po(source, locale=po_path.parent.parent.name)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


@dataclass(frozen=True)
class Catalogs:
    """The translations of every supported locale; the source language translates to itself."""

    translations: dict[str, gettext.NullTranslations]
    default_locale: str

    @classmethod
    def load(cls, default_locale: str, directory: Path = DEFAULT_LOCALES_DIR) -> Catalogs:
        """Read and compile every catalog; a missing one is a packaging error, so it raises."""
        translations: dict[str, gettext.NullTranslations] = {
            SOURCE_LOCALE: gettext.NullTranslations()
        }
        for locale in SUPPORTED_LOCALES:
            if locale != SOURCE_LOCALE:
                translations[locale] = compile_catalog(
                    directory / locale / "LC_MESSAGES" / "messages.po"
                )
        if default_locale not in translations:
            raise ValueError(f"default locale {default_locale!r} has no catalog")
        return cls(translations=translations, default_locale=default_locale)

    def get(self, locale: str) -> gettext.NullTranslations:
        """The translations for `locale` (the default locale's when unknown)."""
        return self.translations.get(locale) or self.translations[self.default_locale]


def supported(locale: str | None) -> str | None:
    """`locale` when the dashboard speaks it (matching `ru-RU` to `ru`), else None."""
    if not locale:
        return None
    primary = locale.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED_LOCALES else None


def parse_accept_language(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most preferred first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_locale(accept_language: str | None) -> str | None:
    """The first supported locale the browser asks for, or None."""
    for tag in parse_accept_language(accept_language or ""):
        locale = supported(tag)
        if locale is not None:
            return locale
    return None


def choose_locale(
    *,
    query: str | None,
    user_locale: str | None,
    session_locale: str | None,
    accept_language: str | None,
    default: str,
) -> str:
    """The page's locale: `?lang=`, then the user's choice, the session's, the browser's."""
    return (
        supported(query)
        or supported(user_locale)
        or supported(session_locale)
        or negotiate_locale(accept_language)
        or default
    )
