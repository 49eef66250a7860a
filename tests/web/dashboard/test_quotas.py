"""The API keys page says so, in the reader's language, when the organisation's quota is used."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ringtrail.domain.roles import Role
from ringtrail.settings import Settings
from tests.conftest import World
from tests.web.dashboard.test_settings_pages import join, post, settings, signed_in

FULL = {
    "en": "Your organisation has reached its limit of API keys",
    "ru": "Ваша организация достигла предела числа API-ключей",
    "uk": "Ваша організація досягла межі кількості API-ключів",
}


@pytest.fixture(name="settings")
def quota_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-not-for-production",
        max_api_keys_per_organization=2,  # the world's organisation holds two already
    )


@pytest.mark.parametrize("locale", ["en", "ru", "uk"])
def test_a_key_over_the_quota_is_a_form_error(
    client: TestClient, db: Session, world: World, locale: str
) -> None:
    token = signed_in(client, join(db, world, Role.ADMIN))
    page = post(
        client,
        token,
        settings(world.ours.project.id, "/api-keys") + f"?lang={locale}",
        {"name": "CRM", "role": "viewer"},
    )
    assert page.status_code == 400
    assert FULL[locale] in page.text
