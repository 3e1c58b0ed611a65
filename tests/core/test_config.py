"""Settings: env names, normalisation, and start-up validation that names the bad variable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.config import DEV_JWT_SECRET, Settings, describe_validation_error


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def error_line(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    with pytest.raises(ValidationError) as caught:
        settings_from(monkeypatch, **env)
    return describe_validation_error(caught.value)


class TestReading:
    def test_defaults_use_the_embedded_database(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.embedded_db
        assert settings.env == "development"
        assert str(settings.pg_dir).endswith(".tieout/pg")

    def test_aliased_names(self, monkeypatch: pytest.MonkeyPatch) -> None:
        settings = settings_from(
            monkeypatch, TIEOUT_DATA_DIR="/srv/tieout", TIEOUT_ENV="production", JWT_SECRET_KEY="k" * 40
        )
        assert str(settings.data_dir) == "/srv/tieout"
        assert settings.is_production

    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("postgres://u:p@db:5432/t", "postgresql+asyncpg://u:p@db:5432/t"),
            ("postgresql://u@db/t", "postgresql+asyncpg://u@db/t"),
            ("postgresql+asyncpg://u@db/t", "postgresql+asyncpg://u@db/t"),
        ],
    )
    def test_database_url_is_normalised_to_asyncpg(
        self, monkeypatch: pytest.MonkeyPatch, given: str, expected: str
    ) -> None:
        assert settings_from(monkeypatch, DATABASE_URL=given).database_url == expected

    def test_password_is_redacted_for_logs(self, monkeypatch: pytest.MonkeyPatch) -> None:
        settings = settings_from(monkeypatch, DATABASE_URL="postgresql://app:s3cret@db:5432/t")
        assert settings.redacted_database_url() == "postgresql+asyncpg://app:***@db:5432/t"

    @pytest.mark.parametrize(
        "value", ["https://a.example,https://b.example", '["https://a.example", "https://b.example"]']
    )
    def test_cors_origins_as_csv_or_json(self, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
        assert settings_from(monkeypatch, CORS_ORIGINS=value).cors_origins == [
            "https://a.example",
            "https://b.example",
        ]

    def test_blank_api_key_means_unset(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert settings_from(monkeypatch, LLMWHISPERER_API_KEY="").llmwhisperer_api_key is None

    def test_secrets_never_appear_in_repr(self, monkeypatch: pytest.MonkeyPatch) -> None:
        settings = settings_from(monkeypatch, LLMWHISPERER_API_KEY="whisper-key-123", JWT_SECRET_KEY="j" * 40)
        assert "whisper-key-123" not in repr(settings)
        assert "j" * 40 not in str(settings.model_dump())


class TestValidation:
    @pytest.mark.parametrize(
        ("env", "expected"),
        [
            ({"TIEOUT_ENV": "staging"}, "TIEOUT_ENV: Input should be 'development' or 'production'"),
            ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL: must be a postgresql:// URL"),
            ({"LOG_LEVEL": "loud"}, "LOG_LEVEL: Input should be"),
            ({"TIEOUT_PORT": "70000"}, "TIEOUT_PORT: Input should be less than or equal to 65535"),
            ({"DB_POOL_SIZE": "many"}, "DB_POOL_SIZE: Input should be a valid integer"),
            ({"TEXT_ENGINE": "magic"}, "TEXT_ENGINE: Input should be 'auto', 'llmwhisperer' or 'local'"),
            ({"LLMWHISPERER_BASE_URL": "ftp://x"}, "LLMWHISPERER_BASE_URL: must start with http"),
            (
                {"TEXT_ENGINE": "llmwhisperer"},
                "LLMWHISPERER_API_KEY is required when TEXT_ENGINE=llmwhisperer",
            ),
            ({"LEASE_SECONDS": "5", "HEARTBEAT_SECONDS": "5"}, "HEARTBEAT_SECONDS must be smaller"),
            ({"TIEOUT_ENV": "production"}, "JWT_SECRET_KEY must be set to at least 32 random bytes"),
            ({"TIEOUT_ENV": "production", "JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY must be set"),
        ],
    )
    def test_bad_value_names_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
    ) -> None:
        line = error_line(monkeypatch, **env)
        assert line.startswith("invalid setting ")
        assert expected in line
        assert "\n" not in line

    def test_dev_secret_is_fine_in_development(self, monkeypatch: pytest.MonkeyPatch) -> None:
        settings = settings_from(monkeypatch, TIEOUT_ENV="development")
        assert settings.jwt_secret_key.get_secret_value() == DEV_JWT_SECRET
