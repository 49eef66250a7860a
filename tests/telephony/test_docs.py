"""The provider pages in docs/telephony/ keep up with the adapters' tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringtrail.telephony import binotel, zadarma

DOCS = Path(__file__).parents[2] / "docs" / "telephony"


def page(name: str) -> str:
    return (DOCS / f"{name}.md").read_text()


@pytest.mark.parametrize("disposition", sorted(zadarma.DISPOSITIONS))
def test_every_zadarma_disposition_is_documented(disposition: str) -> None:
    assert f"`{disposition}`" in page("zadarma")


@pytest.mark.parametrize("event", sorted(zadarma.IGNORED_EVENTS | zadarma.HANDLED_EVENTS))
def test_every_zadarma_event_is_documented(event: str) -> None:
    assert event in page("zadarma")


@pytest.mark.parametrize(
    "disposition", ["ANSWER", "TRANSFER", "BUSY", "NOANSWER", "CANCEL", "CHANUNAVAIL", "VM-SUCCESS"]
)
def test_binotel_dispositions_are_documented(disposition: str) -> None:
    assert disposition.replace("-", "").replace(" ", "") in binotel.DISPOSITIONS
    assert f"`{disposition}`" in page("binotel")


@pytest.mark.parametrize("address", binotel.SERVER_ADDRESSES)
def test_the_built_in_binotel_addresses_are_the_documented_ones(address: str) -> None:
    assert f'"{address}"' in page("binotel")


def test_the_binotel_and_zadarma_address_lists_name_their_source_and_date() -> None:
    binotel_page, zadarma_page = page("binotel"), page("zadarma")
    assert "developers.binotel.ua" in binotel_page and "checked 2026-12-07" in binotel_page
    assert "my.zadarma.com/api/" in zadarma_page and "checked 2026-12-07" in zadarma_page
    assert all(f"`{address}`" in zadarma_page for address in zadarma.SERVER_ADDRESSES)
