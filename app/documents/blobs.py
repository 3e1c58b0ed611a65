"""Content-addressed blob storage behind one small interface.

Input: bytes and their SHA-256. Output: the same bytes back by SHA-256. Invariants: every store
keeps one `blobs` row per distinct content (the row is what documents reference, so a blob in use
cannot be deleted); `put` is idempotent and safe under concurrent uploads of the same bytes; paths
in the folder store derive only from the SHA-256, never from a client-supplied name; a file becomes
visible under its final name only once complete (write, fsync, rename).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path
from typing import Protocol

import anyio
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFoundError, TieoutError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_INSERT = text(
    "INSERT INTO blobs (sha256, size_bytes, data) VALUES (:sha, :size, :data) "
    "ON CONFLICT (sha256) DO NOTHING RETURNING sha256"
)
_LOCK_EXISTING = text("SELECT 1 FROM blobs WHERE sha256 = :sha FOR KEY SHARE")
_DELETE_UNUSED = text(
    "DELETE FROM blobs WHERE sha256 = :sha AND NOT EXISTS (SELECT 1 FROM documents WHERE sha256 = :sha)"
)
# The folder store's file lock: an upload holds it shared until it commits, the sweeper takes it
# exclusively (never waiting) before it looks for a row and unlinks. Keyed by the hash's first 64 bits.
_FILE_LOCK_KEY = "('x' || left({sha}, 16))::bit(64)::bigint"
_LOCK_FILE_SHARED = text(f"SELECT pg_advisory_xact_lock_shared({_FILE_LOCK_KEY.format(sha=':sha')})")
_TRY_LOCK_FILES = text(
    f"SELECT sha FROM unnest(CAST(:shas AS text[])) AS sha "
    f"WHERE pg_try_advisory_xact_lock({_FILE_LOCK_KEY.format(sha='sha')})"
)
_UNREFERENCED = text(
    "SELECT sha FROM unnest(CAST(:shas AS text[])) AS sha "
    "WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE blobs.sha256 = sha)"
)


class StorageFullError(TieoutError):
    def __init__(self) -> None:
        super().__init__("storage_full", "The server is out of storage space; retry later.", 507)


def _check_sha(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError("blob key must be a lower-case hex SHA-256")
    return sha256


class BlobStore(Protocol):
    name: str

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> bool:
        """Store the bytes unless present; True when this call created the blob."""
        ...

    async def get(self, session: AsyncSession, sha256: str) -> bytes: ...

    async def delete_if_unused(self, session: AsyncSession, sha256: str) -> bool:
        """Remove the blob if no document references it; True when removed."""
        ...


async def _claim_row(session: AsyncSession, sha256: str, size: int, data: bytes | None) -> bool:
    # New bytes are the common case: one round trip. A conflict means the blob exists (or a
    # concurrent upload of the same bytes committed it first): lock that row instead, so a
    # concurrent delete cannot remove it before our document references it.
    inserted = await session.execute(_INSERT, {"sha": sha256, "size": size, "data": data})
    if inserted.first() is not None:
        return True
    if (await session.execute(_LOCK_EXISTING, {"sha": sha256})).first() is None:
        raise TieoutError("blob_race", "The file was deleted while being stored; retry.", 503)
    return False


async def _delete_row(session: AsyncSession, sha256: str) -> bool:
    # A document committed by a concurrent upload after our snapshot makes the FK check fail:
    # the savepoint keeps that from aborting the caller's transaction, and the blob stays.
    try:
        async with session.begin_nested():
            result = await session.execute(_DELETE_UNUSED, {"sha": sha256})
    except IntegrityError:
        return False
    return bool(result.rowcount)


class PostgresBlobStore:
    """Bytes in `blobs.data` (bytea, STORAGE EXTERNAL): no shared disk needed between machines."""

    name = "postgres"

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> bool:
        return await _claim_row(session, _check_sha(sha256), len(data), data)

    async def get(self, session: AsyncSession, sha256: str) -> bytes:
        row = (
            await session.execute(text("SELECT data FROM blobs WHERE sha256 = :sha"), {"sha": sha256})
        ).first()
        if row is None or row[0] is None:
            raise NotFoundError("blob_not_found", "The stored file is missing.")
        return bytes(row[0])

    async def delete_if_unused(self, session: AsyncSession, sha256: str) -> bool:
        return await _delete_row(session, sha256)


class FolderBlobStore:
    """Bytes in `<root>/<sha[:2]>/<sha>`; the row (data NULL) still anchors references.

    Deleting only removes the row: a file is unlinked by `sweep` once no row names it, because
    unlinking inside the transaction would lose bytes if the transaction then rolled back.
    """

    name = "folder"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        sha = _check_sha(sha256)
        return self.root / sha[:2] / sha

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> bool:
        # Held until this upload's transaction ends: the sweeper cannot unlink a file (an old one of
        # an unreferenced blob, say) between our existence check and our commit.
        await session.execute(_LOCK_FILE_SHARED, {"sha": _check_sha(sha256)})
        created = await _claim_row(session, sha256, len(data), None)
        path = self.path_for(sha256)
        if not await anyio.to_thread.run_sync(path.exists):
            await anyio.to_thread.run_sync(self._write, path, data)
        return created

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as error:
            Path(tmp).unlink(missing_ok=True)
            if error.errno == 28:  # ENOSPC
                raise StorageFullError() from error
            raise

    async def get(self, session: AsyncSession, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError as error:
            raise NotFoundError("blob_not_found", "The stored file is missing.") from error

    async def delete_if_unused(self, session: AsyncSession, sha256: str) -> bool:
        return await _delete_row(session, sha256)

    async def sweep(self, session: AsyncSession, *, min_age_seconds: float = 3600.0) -> int:
        """Unlink files (and stale partial files) that no row names; returns the count removed.

        Locks stay held until the caller's transaction ends, so run it in a short transaction of
        its own (READ COMMITTED: each statement below sees what committed before it).
        """
        known = set((await session.execute(text("SELECT sha256 FROM blobs WHERE data IS NULL"))).scalars())
        old = await anyio.to_thread.run_sync(self._old_files, known, min_age_seconds)
        blobs = {path.name: path for path in old if _SHA256.match(path.name)}
        doomed = [path for path in old if path.name not in blobs]  # partial files, strays
        if blobs:
            # Lock first, then look for rows: a statement run after the lock sees every upload
            # that committed before it, and no upload of these hashes can be in flight.
            locked = list((await session.execute(_TRY_LOCK_FILES, {"shas": list(blobs)})).scalars())
            unused = (await session.execute(_UNREFERENCED, {"shas": locked})).scalars()
            doomed += [blobs[sha] for sha in unused]
        return await anyio.to_thread.run_sync(_unlink_all, doomed)

    def _old_files(self, known: set[str], min_age_seconds: float) -> list[Path]:
        cutoff = time.time() - min_age_seconds
        old = []
        for path in self.root.glob("??/*"):
            # Young files may belong to an upload still writing or not committed yet.
            try:
                if path.name not in known and path.stat().st_mtime <= cutoff:
                    old.append(path)
            except FileNotFoundError:
                continue
        return old


def _unlink_all(paths: list[Path]) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed
