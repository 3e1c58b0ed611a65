"""Scenario 21 (folder blob store variant): the blob folder is a small tmpfs; uploads run until
ENOSPC. The failing upload is a 507 JSON with no rows and no partial file; earlier uploads read back
byte for byte; after the tmpfs is grown, uploads succeed again without repair.

Needs `mount -t tmpfs` (root or CAP_SYS_ADMIN); skipped with the reason otherwise. The Postgres
data-directory variant is not covered here.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.core.config import Settings
from tests.documents.conftest import make_pdf

pytestmark = pytest.mark.slow


def mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "blobs"
    root.mkdir()
    done = mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], capture_output=True, timeout=30, check=False)


@pytest.fixture
def app_settings(app_settings: Settings, small_disk: Path) -> Settings:
    return app_settings.model_copy(update={"blob_store": "folder", "blob_dir": small_disk})


async def post(client: httpx.AsyncClient, data: bytes, name: str) -> httpx.Response:
    return await client.post("/api/v1/documents", files={"file": (name, io.BytesIO(data), "application/pdf")})


async def test_enospc_is_507_then_uploads_resume_after_space_returns(
    app: FastAPI, client: httpx.AsyncClient, small_disk: Path
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

    assert refused.status_code in (507, 503), refused.text
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.json()["error"]["code"] == "storage_full"
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
