"""The one typed settings object. Nothing else in the package reads the environment.

Sources, highest first: explicit overrides (CLI flags), environment `TOKENUSAGE_*`, the TOML
file given by `--config`, defaults.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_API_URL = "https://comusthumbz.com/projects/api.php"
DEFAULT_BUY_CREDITS_URL = "https://comusthumbz.com/projects/buycredits.php"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it."""


def _names(value: Any) -> Any:
    """A list from TOML, or one comma-separated string (the environment, uvicorn's format)."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


# A list setting: `["a", "b"]` in TOML, `a,b` in the environment.
Names = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_names)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOKENUSAGE_", extra="forbid", frozen=True)

    license_key: str = ""
    license_domain: str = ""
    license_email: str = ""
    api_url: str = DEFAULT_API_URL

    data_dir: Path = Path("data")
    database_url: str = ""

    timezone: str = "UTC"
    locale: Literal["en", "pt_BR"] = "en"

    connect_timeout: float = Field(5.0, gt=0)
    timeout: float = Field(30.0, gt=0)
    retries: int = Field(2, ge=0, le=10)
    # A License API response larger than this is refused unread ("Invalid API response
    # format"); a 10,000-row history page is a few MB.
    max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    # After a failed License API call, page views show the stored data with that error for
    # this many seconds before asking again (explicit actions always ask).
    failure_backoff: int = Field(30, ge=0)
    # Views of the same page within this many seconds share one read of the store, until
    # this process writes to it; 0 turns it off.
    view_memo_seconds: float = Field(1.0, ge=0)

    pricing_ttl: int = Field(300, ge=0)
    account_ttl: int = Field(60, ge=0)
    transactions_ttl: int = Field(3600, ge=0)
    history_page_size: int = Field(10_000, ge=1, le=10_000)
    # A sync (full or incremental) that has not finished after this many seconds is stopped;
    # the previous copy of the history stays whole.
    sync_deadline: float = Field(1800.0, gt=0)
    page_size: int = Field(300, ge=1, le=10_000)
    auto_refresh_seconds: int = Field(600, ge=0)
    low_balance_threshold: Decimal = Decimal("1.00")

    buy_credits_url: str = DEFAULT_BUY_CREDITS_URL
    dashboard_url: str = ""
    reports_url: str = ""
    secure_cookies: bool | None = None
    # Empty: generated on first run into `data_dir/session_secret` (mode 0600). Replicas behind
    # one load balancer must share it, so set it explicitly there.
    session_secret: SecretStr = SecretStr("")
    session_max_age: int = Field(43_200, ge=60)
    # A sign-in ends this long after it began, however active (`session_max_age` is idle time).
    session_absolute_max_age: int = Field(604_800, ge=60)
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For/-Proto are believed;
    # empty: none, the client address is the peer's. "*" trusts everyone (never on a port that
    # anything but the proxy can reach).
    forwarded_allow_ips: Names = ()
    # The address admins use (https://dash.example.com): redirects and the Origin check use it.
    public_url: str = ""
    # Host names this dashboard answers for; a request for another gets 400. Empty: any.
    allowed_hosts: Names = ()
    # Seconds `serve` lets requests in flight finish at shutdown before it cuts them (a stalled
    # download, a view waiting for a slow sync); then the background tasks stop.
    shutdown_grace: int = Field(10, ge=1)
    # Strict-Transport-Security on answers over HTTPS (never over plain HTTP); 0 turns it off.
    hsts_max_age: int = Field(31_536_000, ge=0)
    # Requests a minute each API token may make (per replica); beyond it the API answers 429.
    api_rate_limit: int = Field(600, ge=1)
    # /metrics without an API token, for a scrape on a private network.
    metrics_public: bool = False
    # Alerts: `serve` checks the rules this often (0: never; `alerts check` still does); one
    # replica at a time, under a lease it renews, taken over this long after its holder died.
    alert_interval: int = Field(300, ge=0)
    alert_lease_seconds: float = Field(30.0, gt=0)
    # A failed delivery is retried this many times, after backoff, 2x backoff, ... seconds.
    alert_retries: int = Field(3, ge=0, le=10)
    alert_retry_backoff: float = Field(2.0, ge=0)
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    smtp_from: str = ""
    smtp_timeout: float = Field(10.0, gt=0)
    # Signs every webhook body (HMAC-SHA256); receivers check it to refuse forgeries.
    webhook_secret: SecretStr = SecretStr("")
    webhook_timeout: float = Field(10.0, gt=0)
    # What `tokenusage serve` logs; tracebacks of unexpected errors only at debug.
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like UTC)") from exc
        return value

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (or *)") from None
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(host.lower() for host in value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def store_url(self) -> str:
        """The store's SQLAlchemy URL: `database_url`, or a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'tokenusage.sqlite3'}"

    @property
    def licence_configured(self) -> bool:
        return bool(self.license_key and self.license_domain and self.license_email)

    def require_licence(self) -> None:
        """Raise `ConfigError` naming the first missing licence setting."""
        for name in ("license_key", "license_domain", "license_email"):
            if not getattr(self, name):
                raise ConfigError(
                    f"missing setting {name}: set TOKENUSAGE_{name.upper()} or {name} in the"
                    " config file"
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
        toml_file = _CONFIG_FILE.get("path")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


_CONFIG_FILE: dict[str, Path | None] = {"path": None}


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build `Settings`, turning any validation problem into a `ConfigError` that names it."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")
    _CONFIG_FILE["path"] = config_file
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc
    finally:
        _CONFIG_FILE["path"] = None
