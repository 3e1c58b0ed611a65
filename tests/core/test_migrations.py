"""Migrations: one linear chain with explicit ids, and every step up and down on an empty database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.core.db import PROJECT_ROOT, alembic_config, create_engine, current_revisions, migrate
from tests.conftest import _admin_execute, database_url_for

FILE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}_(\d{4})_[a-z0-9_]+\.py$")


def revisions_oldest_first() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


@pytest.fixture
async def empty_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    name = "tieout_empty_migrations"
    await _admin_execute(
        postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    engine = create_engine(Settings(_env_file=None), url=database_url_for(postgres_url, name))  # type: ignore[call-arg]
    yield engine
    await engine.dispose()
    await _admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.scalars(
            text(
                "SELECT tablename FROM pg_tables"
                " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        )
        return set(rows)


class TestChain:
    def test_single_head_linear_history(self) -> None:
        script = ScriptDirectory.from_config(alembic_config())
        heads = script.get_heads()
        assert len(heads) == 1, (
            f"several heads {heads}: point each new migration's down_revision at the last one"
        )
        for rev in script.walk_revisions():
            assert not rev.is_merge_point, f"{rev.revision} merges branches"

    def test_files_are_named_by_date_and_explicit_id(self) -> None:
        script = ScriptDirectory.from_config(alembic_config())
        for rev in script.walk_revisions():
            name = rev.path.rsplit("/", 1)[-1]
            match = FILE_NAME.match(name)
            assert match, f"{name}: expected YYYY-MM-DD_NNNN_slug.py"
            assert match.group(1) == rev.revision, f"{name}: revision id {rev.revision!r} differs from file"

    def test_first_revision_creates_workers(self) -> None:
        assert revisions_oldest_first()[0] == "0001"
        assert (PROJECT_ROOT / "alembic" / "versions").is_dir()


class TestUpAndDown:
    async def test_each_step_upgrades_and_downgrades_on_an_empty_database(
        self, empty_engine: AsyncEngine
    ) -> None:
        revisions = revisions_oldest_first()
        assert await current_revisions(empty_engine) == set()
        tables_at: dict[str, set[str]] = {}
        for revision in revisions:
            await migrate(empty_engine, revision)
            assert await current_revisions(empty_engine) == {revision}
            tables_at[revision] = await table_names(empty_engine)
        assert "workers" in tables_at["0001"]

        for previous, revision in reversed(list(zip(["base", *revisions], revisions, strict=False))):
            await migrate(empty_engine, previous, downgrade=True)
            expected = set() if previous == "base" else tables_at[previous]
            assert await table_names(empty_engine) == expected, f"downgrade of {revision} left tables behind"
        assert await current_revisions(empty_engine) == set()

        await migrate(empty_engine)
        assert await table_names(empty_engine) == tables_at[revisions[-1]]

    async def test_upgrade_is_idempotent(
        self, empty_engine: AsyncEngine, make_settings: Callable[..., Settings]
    ) -> None:
        await migrate(empty_engine)
        first = await current_revisions(empty_engine)
        await migrate(empty_engine)
        assert await current_revisions(empty_engine) == first


class TestModelsMatchMigrations:
    def test_every_domain_models_module_is_imported_by_app_models(self) -> None:
        import ast

        tree = ast.parse((PROJECT_ROOT / "app" / "models.py").read_text())
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import)]
        imported = {alias.name for node in imports for alias in node.names}
        domains = sorted(path.parent.name for path in (PROJECT_ROOT / "app").glob("*/models.py"))
        missing = [name for name in domains if f"app.{name}.models" not in imported]
        assert not missing, f"add `import app.<domain>.models` to app/models.py for {missing}"

    async def test_migrated_schema_has_no_diff_with_the_models(self, db_engine: AsyncEngine) -> None:
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from app.models import load_all_models

        metadata = load_all_models().metadata

        def include_object(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
            # Alembic cannot compare expression indexes (e.g. on args->>'document_id'); a migration
            # may add one that the model does not declare.
            expressions = getattr(obj, "expressions", ())
            return not (
                kind == "index"
                and reflected
                and other is None
                and any(not hasattr(e, "name") for e in expressions)
            )

        def diff(connection: Connection) -> list[object]:
            opts = {"compare_type": True, "include_object": include_object}
            context = MigrationContext.configure(connection, opts=opts)
            return list(compare_metadata(context, metadata))

        async with db_engine.connect() as conn:
            differences = await conn.run_sync(diff)
        assert not differences, "models and migrations disagree; add a migration:\n" + "\n".join(
            map(str, differences)
        )
