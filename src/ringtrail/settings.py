"""Settings: the one typed configuration object, read from RINGTRAIL_* variables and a file.

Precedence (highest first): keyword arguments, environment variables, `*_FILE` secrets,
the TOML file named by RINGTRAIL_CONFIG_FILE, the defaults below. The embedded default needs
no other service: a SQLite file in the data directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, IPvAnyNetwork, PrivateAttr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "RINGTRAIL_"
MIN_SECRET_KEY_LENGTH = 32
log = logging.getLogger(__name__)


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "ringtrail"


class SecretFileSource(PydanticBaseSettingsSource):
    """Reads `RINGTRAIL_<NAME>_FILE` (Docker/Kubernetes secrets) for any setting."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{ENV_PREFIX}{field_name.upper()}_FILE")
        if not path:
            return None, field_name, False
        return Path(path).read_text(encoding="utf-8").strip(), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


class ConfigFileError(ValueError):
    """RINGTRAIL_CONFIG_FILE names a file that is missing, unreadable or holds unknown keys."""


class ConfigFileSource(TomlConfigSettingsSource):
    """The TOML file named by RINGTRAIL_CONFIG_FILE: top-level keys named like the settings.

    A missing file or a key that is no setting is an error, not silently ignored: a typo in
    production configuration must stop the process, not run it on defaults.
    """

    def __init__(self, settings_cls: type[BaseSettings], path: str) -> None:
        if not Path(path).is_file():
            raise ConfigFileError(f"RINGTRAIL_CONFIG_FILE: no such file: {path}")
        try:
            super().__init__(settings_cls, toml_file=path)
        except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
            raise ConfigFileError(
                f"RINGTRAIL_CONFIG_FILE: {path} is not valid TOML: {exc}"
            ) from exc
        unknown = sorted(set(self.toml_data) - set(settings_cls.model_fields))
        if unknown:
            raise ConfigFileError(
                f"RINGTRAIL_CONFIG_FILE: {path} has unknown settings: {', '.join(unknown)}"
            )


class SecretKeyError(ValueError):
    """The signing key is empty or too short: sessions signed with it could be forged."""


def _make_key_file(key_file: Path) -> None:
    """Create `key_file` holding a new key, whole and 0600 from its first byte, unless it exists.

    The key is written to a private temporary file and hard-linked into place: the link either
    appears with the whole key or fails because another process linked first, so no reader
    ever sees an empty or half-written key.
    """
    descriptor, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=".secret_key.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use that
            os.link(temporary, key_file)
    finally:
        os.unlink(temporary)


def _checked_key(key: str, origin: str) -> str:
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise SecretKeyError(
            f"{origin} holds a secret key of {len(key)} characters; at least "
            f"{MIN_SECRET_KEY_LENGTH} are needed, or sessions could be forged. Generate one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'
        )
    return key


class Settings(BaseSettings):
    """Every setting Ringtrail reads. Documented one by one in docs/deployment.md."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str = ""
    redis_url: str = ""
    lease_backend: Literal["auto", "sql", "redis"] = "auto"
    redis_key_prefix: str = "ringtrail"
    secret_key: str = ""
    public_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    auto_migrate: bool = True
    session_cookie_secure: bool | None = None
    session_max_age_days: int = Field(default=14, ge=1)
    session_idle_minutes: int = Field(default=720, ge=1)
    default_locale: Literal["en", "ru", "uk"] = "en"
    run_jobs: bool = True
    recordings_storage: Literal["local", "s3"] = "local"
    recordings_dir: Path | None = None
    recording_url_ttl_seconds: int = Field(default=900, ge=30, le=7 * 24 * 3600)
    delivery_batch_size: int = Field(default=500, ge=1, le=10_000)
    delivery_concurrency: int = Field(default=16, ge=1, le=256)
    delivery_max_attempts: int = Field(default=12, ge=1, le=100)
    delivery_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    delivery_link_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=300, le=30 * 24 * 3600)
    recording_fetch_allowed_networks: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    amqp_url: str = ""
    sip_events_queue: str = "ringtrail.sip-events"
    binotel_api_url: str = "https://api.binotel.com/api/4.0"
    binotel_sender_addresses: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()
    zadarma_check_sender: bool = False
    zadarma_sender_addresses: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()
    encryption_key: str = ""
    encryption_old_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    database_statement_timeout_seconds: float = Field(default=30, ge=0)
    max_projects_per_organization: int = Field(default=100, ge=1)
    max_api_keys_per_organization: int = Field(default=50, ge=1)
    metrics_token: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    speech_engine: Literal["faster-whisper", "none"] = "faster-whisper"
    speech_model: str = Field(default="small", min_length=1)
    speech_models_dir: Path | None = None
    speech_device: Literal["auto", "cpu", "cuda"] = "auto"
    speech_compute_type: str = ""
    speech_beam_size: int = Field(default=5, ge=1, le=10)
    speech_vad: bool = True
    speech_language: str = Field(default="", pattern=r"^([a-z]{2,3})?$")

    _resolved_key: str | None = PrivateAttr(default=None)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("secret_key", "metrics_token", "encryption_key")
    @classmethod
    def _long_enough_key(cls, value: str) -> str:
        value = value.strip()
        if value and len(value) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"is {len(value)} characters; at least {MIN_SECRET_KEY_LENGTH} are needed"
            )
        return value

    @field_validator("encryption_old_keys", mode="before")
    @classmethod
    def _split_old_keys(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: comma-separated
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator(
        "recording_fetch_allowed_networks",
        "binotel_sender_addresses",
        "zadarma_sender_addresses",
        mode="before",
    )
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: "10.0.0.0/8, 192.168.1.20"
            return tuple(part for part in value.replace(",", " ").split() if part)
        return value

    @field_validator("binotel_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'ringtrail.db'}"
        if self.recordings_dir is None:
            self.recordings_dir = self.data_dir / "recordings"
        if self.speech_models_dir is None:
            self.speech_models_dir = self.data_dir / "speech-models"
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver SQLAlchemy should use (psycopg 3 for PostgreSQL)."""
        url = self.database_url
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url

    @property
    def is_embedded(self) -> bool:
        """True on the embedded default database, SQLite (Redis may still be configured)."""
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def session_cookie_is_secure(self) -> bool:
        """Whether the session cookie is `Secure`: as set, else when `public_url` is HTTPS."""
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.public_url.strip().lower().startswith("https://")

    def resolved_secret_key(self) -> str:
        """The signing key; without RINGTRAIL_SECRET_KEY one is made once and kept in data_dir.

        Several hosts must share one key (sessions and visitor tokens signed on one are checked
        on another), so outside the embedded default a missing key is logged as a warning.
        Processes starting together on a fresh data directory all get the one key that was
        written first; an empty or short key file is refused with `SecretKeyError`, never used.
        """
        if self.secret_key:
            return self.secret_key
        if self._resolved_key is None:
            self._resolved_key = self._kept_secret_key()
        return self._resolved_key

    def _kept_secret_key(self) -> str:
        if not self.is_embedded:
            log.warning(
                "RINGTRAIL_SECRET_KEY is not set: using a key kept in %s; processes on other "
                "hosts will refuse this host's sessions and visitor tokens",
                self.data_dir,
            )
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            _make_key_file(key_file)
        key = key_file.read_text(encoding="utf-8").strip()
        if len(key) < MIN_SECRET_KEY_LENGTH:
            log.error("the secret key file %s is empty or too short; refusing to use it", key_file)
        return _checked_key(
            key, f"{key_file} (delete it to have a new key made, or set RINGTRAIL_SECRET_KEY)"
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            SecretFileSource(settings_cls),
        ]
        config_file = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
        if config_file:
            sources.append(ConfigFileSource(settings_cls, config_file))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
