"""Scenario 21: disk full, for the folder blob store and for PostgreSQL's own data folder.

Folder store: the blob folder is a small tmpfs; uploads run until ENOSPC. The failing upload is a
507 JSON with no rows and no partial file; earlier uploads read back byte for byte; after the tmpfs
is grown, uploads succeed again without repair.

PostgreSQL (a dedicated embedded server whose data folder is a 64 MiB tmpfs; blobs in `bytea`), in
two placements of the write-ahead log:
- `wal-elsewhere`: pg_wal on another volume (a symlink, as production setups often do). A full data
  volume is an ordinary ERROR (SQLSTATE 53100, "could not extend file") for the one transaction: the
  failing upload gets a 507 JSON, reads go on while the disk is full, growing the tmpfs is the whole
  repair.
- `wal-on-the-full-disk` (the harsh case): ballast leaves room for the data files but not for the
  next 16 MB WAL segment, so the upload that needs it makes PostgreSQL PANIC (asserted from its log)
  and restart with crash recovery. The upload gets a JSON 503, every other answer meanwhile is 2xx
  or a JSON 503. PostgreSQL has so far come back on its own (its end-of-recovery checkpoint still
  fits in the current segment); were its recovery to fail, the test starts it again, as a service
  manager would, and the assertions below still hold for the app, which is never restarted.
In both: no row names the refused upload's bytes, every earlier 202 upload reads back byte for byte
once space returns (`mount -o remount,size=512m`), and new uploads succeed.

Needs `mount -t tmpfs` (root or CAP_SYS_ADMIN); skipped with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.main import create_app
from tests.conftest import open_client
from tests.documents.conftest import make_pdf
from tests.jobs.waiting import wait_until
from tests.reliability.dedicated_pg import DedicatedPostgres

pytestmark = pytest.mark.slow


def mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30, check=False)


def umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30, check=False)


def mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "blobs"
    mount_tmpfs(root, "4m")
    try:
        yield root
    finally:
        umount(root)


async def post(client: httpx.AsyncClient, data: bytes, name: str) -> httpx.Response:
    return await client.post("/api/v1/documents", files={"file": (name, io.BytesIO(data), "application/pdf")})


def assert_refusal(response: httpx.Response, statuses: tuple[int, ...]) -> None:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert "Traceback" not in response.text and "asyncpg" not in response.text
    codes = {"storage_full"} if response.status_code == 507 else {"database_unavailable", "not_ready"}
    assert response.json()["error"]["code"] in codes, response.text


class TestFolderStore:
    @pytest.fixture
    def app_settings(self, app_settings: Settings, small_disk: Path) -> Settings:
        return app_settings.model_copy(update={"blob_store": "folder", "blob_dir": small_disk})

    async def test_enospc_is_507_then_uploads_resume_after_space_returns(
        self, app: FastAPI, client: httpx.AsyncClient, small_disk: Path
    ) -> None:
        accepted: dict[str, bytes] = {}
        refused: httpx.Response | None = None
        for number in range(12):  # 4 MiB fills after 4 or 5 uploads of ~0.9 MB
            data = make_pdf(1, f"disk full {number}", pad_to=900_000)
            response = await post(client, data, f"d{number}.pdf")
            if response.status_code != 202:
                refused = response
                break
            accepted[response.json()["document"]["id"]] = data
        assert refused is not None, "the tmpfs never filled up"
        assert accepted, "not even one upload fitted"

        assert_refusal(refused, (507,))
        # No half-written file is visible, and no rows were committed for the refused upload.
        names = [path.name for path in small_disk.rglob("*") if path.is_file()]
        assert not [name for name in names if name.startswith(".partial-")], names
        async with app.state.engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM documents")) == len(accepted)
            assert await conn.scalar(text("SELECT count(*) FROM jobs")) == len(accepted)
            assert await conn.scalar(text("SELECT count(*) FROM blobs")) == len(accepted)

        for document_id, data in accepted.items():
            body = await client.get(f"/api/v1/documents/{document_id}/file")
            assert body.status_code == 200 and body.content == data

        grown = mount("-o", "remount,size=64m", str(small_disk))
        assert grown.returncode == 0, grown.stderr
        again = await post(client, make_pdf(1, "after the remount", pad_to=900_000), "after.pdf")
        assert again.status_code == 202, again.text


@pytest.fixture
async def postgres_on_tmpfs(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DedicatedPostgres]:
    """A dedicated embedded server whose data folder is a 64 MiB tmpfs; pg_wal moved off it when
    the test is parametrized with `wal-elsewhere`."""
    disk = tmp_path / "pgdisk"
    mount_tmpfs(disk, "64m")
    server = DedicatedPostgres(disk / "pg")
    try:
        await server.start()
        if request.param == "wal-elsewhere":
            await server.move_wal(tmp_path / "pg_wal")
        yield server
    finally:
        await server.stop()
        umount(disk)
        shutil.rmtree(tmp_path / "pg_wal", ignore_errors=True)


async def rows_for(url: str, sha256: str) -> tuple[int, int, int]:
    """Documents, jobs and blobs that name these bytes."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM documents WHERE sha256 = :s), "
                    "(SELECT count(*) FROM jobs j JOIN documents d ON d.id::text = j.args ->> 'document_id' "
                    "WHERE d.sha256 = :s), (SELECT count(*) FROM blobs WHERE sha256 = :s)"
                ),
                {"s": sha256},
            )
            return tuple(found.one())  # type: ignore[return-value]
    finally:
        await engine.dispose()


async def leave_room_for_the_wal_segment_only(server: DedicatedPostgres, url: str) -> None:
    """Ballast so that the current WAL segment fills while the data files still have room, and the
    next segment then cannot be created (the harsh case: a PANIC, not a failed transaction)."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            left_in_segment = await conn.scalar(
                text(
                    "SELECT s.size - (pg_current_wal_insert_lsn() - '0/0'::pg_lsn) % s.size FROM "
                    "(SELECT setting::numeric AS size FROM pg_settings "
                    "WHERE name = 'wal_segment_size') AS s"
                )
            )
    finally:
        await engine.dispose()
    disk = server.pgdata.parent
    ballast = shutil.disk_usage(disk).free - int(left_in_segment) - 6 * 1024**2
    if ballast > 0:
        with open(disk / "ballast", "wb") as out:
            out.truncate(0)
            for _ in range(ballast // (1024**2)):
                out.write(b"\0" * 1024**2)


class TestPostgresDataFolder:
    @pytest.mark.parametrize(
        ("postgres_on_tmpfs", "harsh"),
        [
            pytest.param("wal-elsewhere", False, id="wal-elsewhere"),
            pytest.param("wal-on-the-full-disk", True, id="wal-on-the-full-disk"),
        ],
        indirect=["postgres_on_tmpfs"],
    )
    async def test_full_data_folder_refuses_one_upload_keeps_the_rest_and_recovers(
        self,
        postgres_on_tmpfs: DedicatedPostgres,
        make_settings: Callable[..., Settings],
        tmp_path: Path,
        harsh: bool,
    ) -> None:
        server = postgres_on_tmpfs
        url = await server.create_database(make_settings())
        if harsh:
            await leave_room_for_the_wal_segment_only(server, url)
        settings = make_settings(database_url=url, db_connect_timeout=2.0, db_pool_timeout=2.0)
        accepted: dict[str, bytes] = {}
        async with open_client(create_app(settings)) as client:
            refused, refused_data = None, b""
            for number in range(80):  # ~45 MB of room after initdb: 20 to 50 uploads of ~0.9 MB
                data = make_pdf(1, f"pg full {number}", pad_to=900_000)
                response = await post(client, data, f"p{number}.pdf")
                if response.status_code != 202:
                    refused, refused_data = response, data
                    break
                accepted[response.json()["document"]["id"]] = data
            assert refused is not None, "the tmpfs never filled up"
            assert len(accepted) >= 3, "the tmpfs filled up before the test began"
            assert_refusal(refused, (507, 503) if harsh else (507,))

            while_full = [await client.get("/api/v1/jobs"), await client.get("/health/ready")]
            for response in while_full:  # the server may be down (PANIC) or up and full
                if response.status_code != 200:
                    assert_refusal(response, (503,))
            if not harsh:  # only a full data volume: reads go on
                assert all(r.status_code == 200 for r in while_full), [r.text for r in while_full]

            grown = mount("-o", "remount,size=512m", str(server.pgdata.parent))
            assert grown.returncode == 0, grown.stderr
            came_back_alone = await server.recovered(timeout=20)
            if not came_back_alone:
                await server.start_again()  # the postmaster gave up during its recovery
            panics = server.log_lines("PANIC")
            print(
                f"\n{len(accepted)} uploads before {refused.status_code}; PANICs {len(panics)}; "
                f"PostgreSQL came back on its own: {came_back_alone}"
            )
            if harsh:  # the harsh case really was: a WAL write failed, the server PANICked
                assert any("pg_wal" in line for line in panics), server.log_lines("ERROR", "PANIC")

            async def ready() -> bool:
                return (await client.get("/health/ready")).status_code == 200

            await wait_until(ready, timeout=30, interval=0.2, what="the same app to serve again")
            sha = hashlib.sha256(refused_data).hexdigest()
            assert await rows_for(url, sha) == (0, 0, 0)
            for document_id, data in accepted.items():
                body = await client.get(f"/api/v1/documents/{document_id}/file")
                assert body.status_code == 200 and body.content == data, document_id
            again = await post(client, make_pdf(1, "after the remount", pad_to=900_000), "after.pdf")
            assert again.status_code == 202, again.text
            assert (
                await client.get(f"/api/v1/documents/{again.json()['document']['id']}")
            ).status_code == 200
        assert os.path.ismount(server.pgdata.parent)
