"""Dockerfile and docker-compose.yml cannot be built here (no Docker engine): check what can be checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
# Variables the postgres image reads, not tieout.
POSTGRES_IMAGE_ENV = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def settings_env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else name.upper())
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


class TestCompose:
    def test_services(self, compose: dict[str, Any]) -> None:
        services = compose["services"]
        assert set(services) == {"postgres", "api", "worker"}
        assert services["api"]["command"] == ["tieout", "serve"]
        assert services["worker"]["command"] == ["tieout", "worker"]
        for service in services.values():
            assert "healthcheck" in service
        assert services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"

    @pytest.mark.parametrize("service", ["api", "worker"])
    def test_environment_names_are_settings(self, compose: dict[str, Any], service: str) -> None:
        environment = compose["services"][service]["environment"]
        unknown = set(environment) - settings_env_names()
        assert not unknown, f"{service} sets variables tieout does not read: {sorted(unknown)}"
        assert environment["DATABASE_URL"].startswith("postgresql://")

    def test_database_url_matches_the_postgres_service(self, compose: dict[str, Any]) -> None:
        pg = compose["services"]["postgres"]["environment"]
        assert set(pg) == POSTGRES_IMAGE_ENV
        url = compose["services"]["api"]["environment"]["DATABASE_URL"]
        expected = (
            f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
        )
        assert url == expected
        assert Settings(_env_file=None, database_url=url).database_url  # type: ignore[call-arg]

    def test_interpolated_variables_are_settings(self) -> None:
        text = (ROOT / "docker-compose.yml").read_text()
        referenced = set(re.findall(r"\$\{([A-Z_]+)", text))
        assert referenced <= settings_env_names()


class TestDockerfile:
    def test_non_root_with_healthcheck_on_health(self) -> None:
        text = (ROOT / "Dockerfile").read_text()
        users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
        assert users and users[-1] not in {"root", "0"}
        assert re.search(r"^HEALTHCHECK .*", text, flags=re.MULTILINE)
        assert "/health" in text.split("HEALTHCHECK", 1)[1]
        assert "uv sync --frozen" in text

    def test_env_names_are_settings(self) -> None:
        text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
        env_lines = " ".join(re.findall(r"^ENV (.*)$", text, flags=re.MULTILINE))
        names = set(re.findall(r"([A-Z_]+)=", env_lines))
        tieout_names = {name for name in names if name.startswith(("TIEOUT_", "LOG_", "DATABASE_"))}
        assert tieout_names <= settings_env_names()
        assert {"TIEOUT_ENV", "TIEOUT_DATA_DIR", "TIEOUT_HOST"} <= tieout_names
