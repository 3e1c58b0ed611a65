"""Settings from environment variables and `.env`, validated once at start-up.

Every field is read from the upper-case environment variable of the same name (or its alias);
the README's configuration table lists them all.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0000"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Runtime
    env: Literal["development", "production"] = Field("development", validation_alias="TIEOUT_ENV")
    data_dir: Path = Field(Path(".tieout"), validation_alias="TIEOUT_DATA_DIR")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    host: str = Field("127.0.0.1", validation_alias="TIEOUT_HOST")
    port: int = Field(8000, ge=1, le=65535, validation_alias="TIEOUT_PORT")
    cors_origins: Annotated[list[str], NoDecode] = []

    # Database
    database_url: str | None = None
    db_pool_size: int = Field(5, ge=1)
    db_max_overflow: int = Field(10, ge=0)
    db_pool_timeout: float = Field(10.0, gt=0)
    db_connect_timeout: float = Field(5.0, gt=0)
    run_migrations: bool = True

    # Worker and queue (reliability defaults: lease 30 s, heartbeat lease/3, grace 25 s)
    run_worker: bool = True
    worker_concurrency: int = Field(2, ge=1)
    lease_seconds: float = Field(30.0, gt=0)
    heartbeat_seconds: float = Field(10.0, gt=0)
    poll_interval: float = Field(2.0, gt=0)
    shutdown_grace_seconds: float = Field(25.0, ge=0)
    job_timeout_seconds: float = Field(1200.0, gt=0)
    max_attempts: int = Field(5, ge=1)
    worker_claim_batch: int = Field(10, ge=1)
    retry_base_seconds: float = Field(2.0, gt=0)
    retry_max_seconds: float = Field(300.0, gt=0)

    # Uploads and PDFs
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1)
    max_form_fields: int = Field(20, ge=1)
    max_form_part_bytes: int = Field(64 * 1024, ge=1)
    max_pdf_pages: int = Field(1000, ge=1)
    upload_idle_seconds: float = Field(30.0, gt=0)
    upload_total_seconds: float = Field(600.0, gt=0)  # a 1 byte/s trickle never trips the idle limit
    # uvicorn has no receipt timeout of its own: `serve` closes a connection whose request head is late.
    header_timeout_seconds: float = Field(10.0, gt=0)
    limit_concurrency: int = Field(500, ge=1)  # connections + requests in `serve`; more get 503
    idempotency_ttl_seconds: float = Field(24 * 3600.0, gt=0)
    sweep_interval_seconds: float = Field(3600.0, gt=0)  # expired Idempotency-Keys, unused blob files
    blob_sweep_min_age_seconds: float = Field(3600.0, ge=0)
    blob_store: Literal["postgres", "folder"] = "postgres"
    blob_dir: Path | None = None

    # PDF and OCR work runs in a child process with these limits (a hostile PDF fails its own job)
    sandbox_memory_bytes: int = Field(2 * 1024**3, ge=64 * 1024**2)
    sandbox_cpu_seconds: int = Field(900, ge=1)
    sandbox_wall_seconds: float = Field(1200.0, gt=0)

    # Text extraction
    text_engine: Literal["auto", "llmwhisperer", "local"] = "auto"
    llmwhisperer_api_key: SecretStr | None = None
    llmwhisperer_base_url: str = "https://llmwhisperer-api.us-central.unstract.com/api/v2"
    http_timeout_seconds: float = Field(30.0, gt=0)
    # How long a submit/retrieve step of one LLMWhisperer run stays claimed by a worker; a worker
    # killed inside the step delays the next one by at most this much.
    llmwhisperer_step_lease_seconds: float = Field(120.0, gt=0)

    # Auth
    jwt_secret_key: SecretStr = SecretStr(DEV_JWT_SECRET)
    access_token_minutes: int = Field(15, ge=1)
    refresh_token_days: int = Field(14, ge=1)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a JSON list or a comma-separated string."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("llmwhisperer_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in {"postgres", "postgresql", "postgresql+asyncpg"}:
            raise ValueError("must be a postgresql:// URL")
        return f"postgresql+asyncpg://{rest}"

    @field_validator("llmwhisperer_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError("HEARTBEAT_SECONDS must be smaller than LEASE_SECONDS")
        if self.text_engine == "llmwhisperer" and self.llmwhisperer_api_key is None:
            raise ValueError("LLMWHISPERER_API_KEY is required when TEXT_ENGINE=llmwhisperer")
        secret = self.jwt_secret_key.get_secret_value()
        if self.env == "production" and (secret == DEV_JWT_SECRET or len(secret.encode()) < 32):
            raise ValueError("JWT_SECRET_KEY must be set to at least 32 random bytes in production")
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def embedded_db(self) -> bool:
        return self.database_url is None

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def worker_stale_seconds(self) -> float:
        """A worker whose last heartbeat is older than this is presumed dead."""
        return max(self.lease_seconds, 3 * self.heartbeat_seconds)

    def redacted_database_url(self) -> str:
        """DATABASE_URL without its password, safe for logs."""
        if self.database_url is None:
            return "embedded"
        scheme, _, rest = self.database_url.partition("://")
        creds, at, host = rest.rpartition("@")
        if not at:
            return self.database_url
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"


def env_name(loc: tuple[int | str, ...]) -> str:
    """The environment variable behind a validation error location."""
    if not loc:
        return "settings"
    name = str(loc[0])
    field = Settings.model_fields.get(name)
    if field is not None and isinstance(field.validation_alias, str):
        return field.validation_alias
    return name.upper()


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the bad variable(s), for start-up failures."""
    parts = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            parts.append(f"{env_name(error['loc'])}: {message}")
        else:
            parts.append(message)
    return "invalid setting " + "; ".join(parts)


@lru_cache
def get_settings() -> Settings:
    """The process settings, read from the environment once."""
    return Settings()
