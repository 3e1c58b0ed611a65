"""All queue SQL in one place: enqueue, claim, heartbeat, reap, complete, fail, retry, cancel, release.

Every function takes `conn`, an `AsyncSession` or `AsyncConnection`, and runs in the caller's
transaction: the caller commits. The worker's hot path (`claim_direct`, `complete_many_direct`,
`complete_and_claim_direct`: a batch's successes and the claim of the slots they free in one
statement) runs the same SQL on a bare asyncpg connection in autocommit mode, skipping SQLAlchemy's
per-call work; asyncpg prepares each statement once per connection. Invariants kept by the SQL itself:

- a claim is one statement: rows picked with `FOR UPDATE SKIP LOCKED` in materialized CTEs (so the
  UPDATE can never touch more rows than the LIMIT), `attempts` counted, lease owner/expiry set and
  a new random `fence` drawn in the same UPDATE;
- a running job whose lease expired is claimable by the same statement (recovery time = lease);
  one that has used up its attempts, or was asked to cancel, is never claimed again: `reap_expired`
  (every worker's heartbeat, and each drain) finishes it instead;
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

from sqlalchemy import TextClause, text

from app.jobs.connections import DirectStatement
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


# The claim in two parts, the CTEs that pick rows and the UPDATE that leases them, so that
# `complete_and_claim_direct` can put a completion in front of the same claim.
#
# `{limit}` is written into the SQL, not bound: with `LIMIT $1` PostgreSQL cannot cost a generic
# plan and plans this statement anew at every call (more than its execution costs); with a constant
# a prepared claim keeps its plan. So there is one statement per batch size (`_claim_statements`).
# `{not_completing}` keeps the rows a combined statement completes out of `expired`.
_CLAIM_PICK = """
    expired AS MATERIALIZED (
        SELECT id FROM jobs
        WHERE status = 'running' AND lease_expires_at < now()
          AND attempts < max_attempts AND NOT cancel_requested{not_completing}
        ORDER BY lease_expires_at
        LIMIT {limit}
        FOR UPDATE SKIP LOCKED
    ),
    ready AS MATERIALIZED (
        SELECT id FROM jobs
        WHERE status = 'pending' AND run_after <= now()
        ORDER BY priority DESC, run_after, id
        LIMIT {limit}
        FOR UPDATE SKIP LOCKED
    ),
    picked AS MATERIALIZED (
        SELECT id FROM expired UNION ALL SELECT id FROM ready LIMIT {limit}
    )
"""
_CLAIM_UPDATE = """
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
"""
_CLAIM_SQL = "WITH" + _CLAIM_PICK.replace("{not_completing}", "") + _CLAIM_UPDATE

_claim_statements: dict[int, tuple[TextClause, DirectStatement]] = {}


def _claim_statement(limit: int) -> tuple[TextClause, DirectStatement]:
    limit = max(1, int(limit))
    if limit not in _claim_statements:
        statement = text(_CLAIM_SQL.replace("{limit}", str(limit)))
        _claim_statements[limit] = (statement, DirectStatement.of(statement))
    return _claim_statements[limit]


def _claimed(rows: Iterable[Any]) -> list[ClaimedJob]:
    """Claimed rows (SQLAlchemy rows or asyncpg records, by position) in priority order."""
    jobs = []
    for job_id, task_name, args, attempts, max_attempts, fence, priority in rows:
        args = args if isinstance(args, dict) else json.loads(args)
        jobs.append(ClaimedJob(job_id, task_name, args, attempts, max_attempts, fence, priority))
    jobs.sort(key=lambda job: (-job.priority, job.id))  # RETURNING has no order of its own
    return jobs


async def claim(conn: Any, owner: str, *, limit: int = 1, lease_seconds: float = 30.0) -> list[ClaimedJob]:
    """Lease up to `limit` runnable jobs (pending and due, or running with an expired lease) to `owner`."""
    statement, _ = _claim_statement(limit)
    return _claimed(await conn.execute(statement, {"owner": owner, "lease": float(lease_seconds)}))


async def claim_direct(
    conn: Any, owner: str, *, limit: int = 1, lease_seconds: float = 30.0
) -> list[ClaimedJob]:
    """`claim` on an asyncpg connection in autocommit mode: the claim commits on its own."""
    _, direct = _claim_statement(limit)
    return _claimed(await direct.fetch(conn, {"owner": owner, "lease": float(lease_seconds)}))


_REAP = text("""
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
""")


async def reap_expired(conn: Any) -> list[int]:
    """Finish expired leases that must not run again: failed (no attempt left) or cancelled; their ids.

    Maintenance, not part of the claim: it would cost every claim a second UPDATE for rows that are
    rare (a worker died on a job's last attempt), and such a job waits at most one heartbeat longer.
    """
    return [int(row[0]) for row in await conn.execute(_REAP)]


_REAP_DIRECT = DirectStatement.of(_REAP)


async def reap_expired_direct(conn: Any) -> list[int]:
    """`reap_expired` on an asyncpg connection in autocommit mode."""
    return [int(row[0]) for row in await _REAP_DIRECT.fetch(conn, {})]


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

_COMPLETE_MANY_SQL = """
    UPDATE jobs AS j SET status = 'succeeded', result = CAST(d.result AS jsonb), progress = 100,
        error = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
    FROM unnest(CAST(:ids AS bigint[]), CAST(:fences AS bigint[]), CAST(:results AS text[]))
        AS d(id, fence, result)
    WHERE j.id = d.id AND j.fence = d.fence AND j.status = 'running'
    RETURNING j.id
"""
_COMPLETE_MANY = text(_COMPLETE_MANY_SQL)


async def complete(conn: Any, lease: Fence, result: Any = None) -> None:
    """Mark the job succeeded; `LeaseLost` if this lease is no longer current."""
    res = await conn.execute(_COMPLETE, {"id": lease.job_id, "fence": lease.token, "result": _json(result)})
    require_rows(res.rowcount, lease)


_COMPLETE_MANY_DIRECT = DirectStatement.of(_COMPLETE_MANY)


def _complete_many_params(items: Sequence[tuple[Fence, Any]]) -> dict[str, list[Any]]:
    return {
        "ids": [f.job_id for f, _ in items],
        "fences": [f.token for f, _ in items],
        "results": ["null" if r is None else _json(r) for _, r in items],
    }


async def complete_many_direct(conn: Any, items: Sequence[tuple[Fence, Any]]) -> set[int]:
    """Mark many jobs succeeded in one statement on an asyncpg connection in autocommit mode (it
    commits on its own); the ids whose lease was still current."""
    if not items:
        return set()
    return {int(row[0]) for row in await _COMPLETE_MANY_DIRECT.fetch(conn, _complete_many_params(items))}


# One round trip and one commit where a worker would make two: the successes of a batch and the claim
# of the slots they free. `completed` is read first, so its UPDATE runs before the claim's; a row it
# completes is kept out of `expired` (even if its lease ran out), so no row is written twice.
_COMPLETE_AND_CLAIM_SQL = f"""
    WITH completed AS ({_COMPLETE_MANY_SQL}),
    {_CLAIM_PICK.replace("{not_completing}", " AND id <> ALL(CAST(:ids AS bigint[]))")},
    claimed AS ({_CLAIM_UPDATE})
    SELECT true AS completed, id, NULL::text, NULL::jsonb, NULL::integer, NULL::integer, NULL::bigint,
        NULL::smallint
    FROM completed
    UNION ALL
    SELECT false, id, type, args, attempts, max_attempts, fence, priority FROM claimed
"""

_complete_and_claim_statements: dict[int, DirectStatement] = {}


async def complete_and_claim_direct(
    conn: Any, items: Sequence[tuple[Fence, Any]], owner: str, *, limit: int, lease_seconds: float
) -> tuple[set[int], list[ClaimedJob]]:
    """`complete_many_direct` and `claim_direct` in one statement: (ids completed, jobs claimed)."""
    limit = max(1, int(limit))
    if limit not in _complete_and_claim_statements:
        sql = _COMPLETE_AND_CLAIM_SQL.replace("{limit}", str(limit))
        _complete_and_claim_statements[limit] = DirectStatement.of(text(sql))
    params = {**_complete_many_params(items), "owner": owner, "lease": float(lease_seconds)}
    rows = await _complete_and_claim_statements[limit].fetch(conn, params)
    completed = {int(row[1]) for row in rows if row[0]}
    return completed, _claimed(tuple(row)[1:] for row in rows if not row[0])


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
