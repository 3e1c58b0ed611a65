"""All queue SQL in one place: enqueue, claim, heartbeat, complete, fail, retry, cancel, release.

Every function takes `conn`, an `AsyncSession` or `AsyncConnection`, and runs in the caller's
transaction: the caller commits. Invariants kept by the SQL itself:

- a claim is one statement: rows picked with `FOR UPDATE SKIP LOCKED` in materialized CTEs (so the
  UPDATE can never touch more rows than the LIMIT), `attempts` counted, lease owner/expiry set and
  a new random `fence` drawn in the same UPDATE;
- a running job whose lease expired is claimable by the same statement (recovery time = lease);
  one that has used up its attempts, or was asked to cancel, is finished there instead of re-run;
- every write on behalf of a claimed job matches `(id, fence, status = 'running')`; the caller checks
  the row count (`require_rows`) and stops with `LeaseLost` when it is not the owner any more;
- NOTIFY is sent in the same transaction as the row change, so it is delivered only at commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from app.jobs.fencing import Fence, require_rows

JOBS_CHANNEL = "tieout_jobs"
CANCEL_CHANNEL = "tieout_jobs_cancel"


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    type: str
    args: dict[str, Any]
    attempts: int
    max_attempts: int
    fence: int
    priority: int

    @property
    def lease(self) -> Fence:
        return Fence(self.id, self.fence)


def _json(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"))


_ENQUEUE = text("""
    WITH job AS (
        INSERT INTO jobs (type, args, priority, max_attempts, run_after, owner_id)
        VALUES (:type, CAST(:args AS jsonb), :priority, :max_attempts,
                now() + make_interval(secs => :delay), CAST(:owner_id AS uuid))
        RETURNING id
    )
    SELECT id, pg_notify(:channel, '') FROM job
""")

_ENQUEUE_MANY = text("""
    WITH inserted AS (
        INSERT INTO jobs (type, args, priority, max_attempts)
        SELECT :type, CAST(a AS jsonb), :priority, :max_attempts
        FROM unnest(CAST(:args AS text[])) AS a
        RETURNING id
    )
    SELECT id FROM inserted, (SELECT pg_notify(:channel, '')) AS n
""")


async def enqueue(
    conn: Any,
    task_name: str,
    args: dict[str, Any] | None = None,
    *,
    priority: int = 0,
    max_attempts: int = 5,
    delay_seconds: float = 0.0,
    owner_id: uuid.UUID | None = None,
) -> int:
    """Insert a pending job (and NOTIFY workers at commit) in the caller's transaction; its id.

    `conn` is the caller's `AsyncSession` or `AsyncConnection`: the job exists exactly when the
    caller's transaction commits (enqueue it next to the row that needs it).
    """
    result = await conn.execute(
        _ENQUEUE,
        {
            "type": task_name,
            "args": _json(args or {}),
            "priority": priority,
            "max_attempts": max_attempts,
            "delay": float(delay_seconds),
            "owner_id": str(owner_id) if owner_id is not None else None,
            "channel": JOBS_CHANNEL,
        },
    )
    return int(result.scalar_one())


async def enqueue_many(
    conn: Any,
    task_name: str,
    args_list: Sequence[dict[str, Any]],
    *,
    priority: int = 0,
    max_attempts: int = 5,
) -> list[int]:
    """Insert many jobs of one type in one statement (one NOTIFY); their ids."""
    if not args_list:
        return []
    result = await conn.execute(
        _ENQUEUE_MANY,
        {
            "type": task_name,
            "args": [_json(a) for a in args_list],
            "priority": priority,
            "max_attempts": max_attempts,
            "channel": JOBS_CHANNEL,
        },
    )
    return [int(row[0]) for row in result]


_CLAIM = text("""
    WITH reaped AS (
        -- Expired leases with no attempt left (or a cancel pending) end here instead of re-running.
        UPDATE jobs SET
            status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END,
            error = CASE WHEN cancel_requested THEN error ELSE jsonb_build_object(
                'code', 'worker_died', 'type', 'LeaseExpired',
                'message', 'worker died during attempt') END,
            history = history || jsonb_build_array(jsonb_build_object(
                'attempt', attempts, 'event', 'lease_expired', 'owner', lease_owner, 'at', now())),
            lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
        WHERE id IN (
            SELECT id FROM jobs
            WHERE status = 'running' AND lease_expires_at < now()
              AND (attempts >= max_attempts OR cancel_requested)
            FOR UPDATE SKIP LOCKED)
        RETURNING id
    ),
    expired AS MATERIALIZED (
        SELECT id FROM jobs
        WHERE status = 'running' AND lease_expires_at < now()
          AND attempts < max_attempts AND NOT cancel_requested
        ORDER BY lease_expires_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ),
    ready AS MATERIALIZED (
        SELECT id FROM jobs
        WHERE status = 'pending' AND run_after <= now()
        ORDER BY priority DESC, run_after, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ),
    picked AS MATERIALIZED (
        SELECT id FROM expired UNION ALL SELECT id FROM ready LIMIT :limit
    )
    UPDATE jobs AS j SET
        status = 'running',
        attempts = j.attempts + 1,
        -- A random token, not fence + 1: a claim lost in a crash (claims commit asynchronously)
        -- must never hand its token to the next owner.
        fence = floor(random() * 9.0e18)::bigint + 1,
        lease_owner = :owner,
        lease_expires_at = now() + make_interval(secs => :lease),
        started_at = now(),
        updated_at = now(),
        history = CASE WHEN j.status = 'running' THEN j.history || jsonb_build_array(jsonb_build_object(
            'attempt', j.attempts, 'event', 'lease_expired', 'owner', j.lease_owner, 'at', now()))
            ELSE j.history END
    FROM picked
    WHERE j.id = picked.id
    RETURNING j.id, j.type, j.args, j.attempts, j.max_attempts, j.fence, j.priority
""")


async def claim(conn: Any, owner: str, *, limit: int = 1, lease_seconds: float = 30.0) -> list[ClaimedJob]:
    """Lease up to `limit` runnable jobs (pending and due, or running with an expired lease) to `owner`."""
    result = await conn.execute(_CLAIM, {"owner": owner, "limit": limit, "lease": float(lease_seconds)})
    jobs = []
    for row in result:
        args = row.args if isinstance(row.args, dict) else json.loads(row.args)
        jobs.append(
            ClaimedJob(row.id, row.type, args, row.attempts, row.max_attempts, row.fence, row.priority)
        )
    jobs.sort(key=lambda job: (-job.priority, job.id))  # RETURNING has no order of its own
    return jobs


_RENEW = text("""
    UPDATE jobs AS j SET lease_expires_at = now() + make_interval(secs => :lease)
    FROM unnest(CAST(:ids AS bigint[]), CAST(:fences AS bigint[])) AS l(id, fence)
    WHERE j.id = l.id AND j.fence = l.fence AND j.status = 'running'
    RETURNING j.id, j.cancel_requested
""")


async def renew_leases(conn: Any, leases: Iterable[Fence], *, lease_seconds: float) -> dict[int, bool]:
    """Extend the leases still held; `{job_id: cancel_requested}` for each one renewed.

    A job missing from the answer was reclaimed or finished elsewhere: its lease is lost.
    """
    leases = list(leases)
    if not leases:
        return {}
    params = {
        "ids": [f.job_id for f in leases],
        "fences": [f.token for f in leases],
        "lease": float(lease_seconds),
    }
    result = await conn.execute(_RENEW, params)
    return {int(row.id): bool(row.cancel_requested) for row in result}


_COMPLETE = text("""
    UPDATE jobs SET status = 'succeeded', result = CAST(:result AS jsonb), progress = 100,
        error = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
    WHERE id = :id AND fence = :fence AND status = 'running'
""")

_COMPLETE_MANY = text("""
    UPDATE jobs AS j SET status = 'succeeded', result = CAST(d.result AS jsonb), progress = 100,
        error = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
    FROM unnest(CAST(:ids AS bigint[]), CAST(:fences AS bigint[]), CAST(:results AS text[]))
        AS d(id, fence, result)
    WHERE j.id = d.id AND j.fence = d.fence AND j.status = 'running'
    RETURNING j.id
""")


async def complete(conn: Any, lease: Fence, result: Any = None) -> None:
    """Mark the job succeeded; `LeaseLost` if this lease is no longer current."""
    res = await conn.execute(_COMPLETE, {"id": lease.job_id, "fence": lease.token, "result": _json(result)})
    require_rows(res.rowcount, lease)


async def complete_many(conn: Any, items: Sequence[tuple[Fence, Any]]) -> set[int]:
    """Mark many jobs succeeded in one statement; the ids whose lease was still current."""
    if not items:
        return set()
    params = {
        "ids": [f.job_id for f, _ in items],
        "fences": [f.token for f, _ in items],
        "results": [_json(r) for _, r in items],
    }
    result = await conn.execute(_COMPLETE_MANY, params)
    return {int(row.id) for row in result}


_FAIL = text("""
    UPDATE jobs SET status = 'failed', error = CAST(:error AS jsonb),
        history = history || jsonb_build_array(
            jsonb_build_object('attempt', attempts, 'event', 'failed', 'at', now())
            || CAST(:error AS jsonb)),
        lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
    WHERE id = :id AND fence = :fence AND status = 'running'
""")

_RETRY_LATER = text("""
    UPDATE jobs SET status = 'pending', error = CAST(:error AS jsonb),
        run_after = now() + make_interval(secs => CAST(:delay AS double precision)),
        history = history || jsonb_build_array(
            jsonb_build_object('attempt', attempts, 'event', 'retry', 'at', now(),
                               'delay_seconds', CAST(:delay AS double precision)) || CAST(:error AS jsonb)),
        lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
    WHERE id = :id AND fence = :fence AND status = 'running'
""")


async def fail(conn: Any, lease: Fence, error: dict[str, Any]) -> None:
    """Mark the job failed for good with `error` (also appended to its history)."""
    res = await conn.execute(_FAIL, {"id": lease.job_id, "fence": lease.token, "error": _json(error)})
    require_rows(res.rowcount, lease)


async def retry_later(conn: Any, lease: Fence, error: dict[str, Any], *, delay_seconds: float) -> None:
    """Put the job back to pending, runnable after `delay_seconds` (backoff without holding a slot)."""
    params = {"id": lease.job_id, "fence": lease.token, "error": _json(error), "delay": float(delay_seconds)}
    res = await conn.execute(_RETRY_LATER, params)
    require_rows(res.rowcount, lease)


_SET_PROGRESS = text("""
    UPDATE jobs SET progress = :progress, stage = :stage, updated_at = now()
    WHERE id = :id AND fence = :fence AND status = 'running'
""")


async def set_progress(conn: Any, lease: Fence, progress: int, stage: str | None) -> None:
    """Record progress (0-100) and stage name for a job this worker still holds."""
    params = {
        "id": lease.job_id,
        "fence": lease.token,
        "progress": max(0, min(100, progress)),
        "stage": stage,
    }
    res = await conn.execute(_SET_PROGRESS, params)
    require_rows(res.rowcount, lease)


_MARK_CANCELLED = text("""
    UPDATE jobs SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL,
        history = history || jsonb_build_array(
            jsonb_build_object('attempt', attempts, 'event', 'cancelled', 'at', now())),
        finished_at = now(), updated_at = now()
    WHERE id = :id AND fence = :fence AND status = 'running'
""")


async def mark_cancelled(conn: Any, lease: Fence) -> None:
    """A running job acknowledged its cancellation: it ends `cancelled`, never retried."""
    res = await conn.execute(_MARK_CANCELLED, {"id": lease.job_id, "fence": lease.token})
    require_rows(res.rowcount, lease)


_RELEASE = text("""
    UPDATE jobs SET status = 'pending', run_after = now(), attempts = GREATEST(attempts - 1, 0),
        lease_owner = NULL, lease_expires_at = NULL, progress = 0, stage = NULL,
        history = history || jsonb_build_array(jsonb_build_object(
            'attempt', attempts, 'event', 'released', 'reason', CAST(:reason AS text), 'at', now())),
        updated_at = now()
    WHERE id = :id AND fence = :fence AND status = 'running'
    RETURNING pg_notify(:channel, '')
""")


async def release(conn: Any, lease: Fence, *, reason: str = "shutdown") -> bool:
    """Hand an interrupted job back to the queue (the attempt is not counted); False if not ours."""
    params = {"id": lease.job_id, "fence": lease.token, "reason": reason, "channel": JOBS_CHANNEL}
    res = await conn.execute(_RELEASE, params)
    return res.first() is not None


_CANCEL = text("""
    UPDATE jobs SET
        status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
        finished_at = CASE WHEN status = 'pending' THEN now() ELSE finished_at END,
        cancel_requested = true,
        history = history || jsonb_build_array(jsonb_build_object(
            'attempt', attempts, 'event', 'cancel_requested', 'at', now())),
        updated_at = now()
    WHERE id = :id AND status IN ('pending', 'running')
    RETURNING status, pg_notify(:channel, CAST(id AS text))
""")


async def request_cancel(conn: Any, job_id: int) -> str | None:
    """Cancel a pending job at once, or flag a running one; its new status, None if already final."""
    res = await conn.execute(_CANCEL, {"id": job_id, "channel": CANCEL_CHANNEL})
    row = res.first()
    return None if row is None else str(row.status)


_RETRY_NOW = text("""
    UPDATE jobs SET status = 'pending', attempts = 0, run_after = now(), cancel_requested = false,
        progress = 0, stage = NULL, result = NULL, error = NULL, finished_at = NULL, started_at = NULL,
        history = history || jsonb_build_array(jsonb_build_object(
            'event', 'retried', 'previous_status', status, 'at', now())),
        updated_at = now()
    WHERE id = :id AND status IN ('failed', 'cancelled')
    RETURNING id, pg_notify(:channel, '')
""")


async def retry_now(conn: Any, job_id: int) -> bool:
    """Reset a failed or cancelled job to pending with fresh attempts; False if it is not in such a state."""
    res = await conn.execute(_RETRY_NOW, {"id": job_id, "channel": JOBS_CHANNEL})
    return res.first() is not None


_COUNTS = text("SELECT status, count(*) AS n FROM jobs GROUP BY status")


async def counts_by_status(conn: Any) -> dict[str, int]:
    """`{status: count}` over the whole table (tests, benchmarks, health)."""
    result = await conn.execute(_COUNTS)
    return {str(row.status): int(row.n) for row in result}
