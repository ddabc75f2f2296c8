"""The run log: a run started, finished, or (a quiet poll's) brought up to now; read back."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from orderamt.models import RunOverview, RunRecord
from orderamt.portal.journal.schema import JournalSchema


class RunsSQL(JournalSchema):
    """The runs table's SQL, in the caller's transaction."""

    def start_run(
        self, conn: Connection, kind: str, mode: str, started: datetime, reverts: int | None = None
    ) -> int:
        result = conn.execute(
            insert(self.runs).values(
                kind=kind,
                mode=mode,
                started_at=started,
                reverts_run=reverts,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def finish_run(
        self,
        conn: Connection,
        run_id: int,
        finished: datetime,
        counts: dict[str, int],
        code: int,
        error: str | None = None,
    ) -> bool:
        """Record a run's end, only where this process started it and nothing ended it yet:
        a journal dropped and made again (php artisan migrate:fresh) restarts the ids, and
        another run's record is never overwritten. False: no such run of ours."""
        r = self.runs.c
        result = conn.execute(
            update(self.runs)
            .where(
                r.id == run_id,
                r.host == socket.gethostname()[:255],
                r.pid == os.getpid(),
                r.finished_at.is_(None),
            )
            .values(finished_at=finished, exit_code=code, error=error and error[:500], **counts)
        )
        return bool(result.rowcount)

    def beat(self, conn: Connection, run_id: int, now: datetime) -> bool:
        """Bring a heartbeat run (a quiet poll's) up to now; False when it is not there."""
        r = self.runs.c
        moved = conn.execute(
            update(self.runs)
            .where(r.id == run_id, r.updated == 0, r.skipped == 0, r.exit_code == 0)
            .values(started_at=now, finished_at=now)
        )
        return moved.rowcount == 1

    def revert_of(self, conn: Connection, run_id: int) -> RunRecord | None:
        """The revert that completed for this run, if one did (exit 0 or 1)."""
        r = self.runs.c
        row = conn.execute(
            select(self.runs)
            .where(
                r.kind == "revert",
                r.mode == "revert",
                r.reverts_run == run_id,
                r.exit_code.in_((0, 1)),
            )
            .order_by(r.id)
            .limit(1)
        ).first()
        return RunRecord(**row._mapping) if row is not None else None

    def recent_runs(self, conn: Connection, limit: int) -> list[RunRecord]:
        r = self.runs.c
        rows = conn.execute(select(self.runs).order_by(r.id.desc()).limit(limit))
        return [RunRecord(**row._mapping) for row in rows]

    def overview(self, conn: Connection) -> RunOverview:
        """What `status` shows: the last run, the last success, the runs still going."""
        r = self.runs.c
        newest = (
            select(self.runs)
            .where(r.kind != "listen")  # the listener's own record: serving, not syncing
            .order_by(r.finished_at.desc(), r.id.desc())
        )
        last = conn.execute(newest.where(r.finished_at.is_not(None)).limit(1)).first()
        # A run that ended on an error (a full disk is exit 1 too) is no success.
        success = conn.execute(
            newest.where(
                r.finished_at.is_not(None), r.exit_code.in_((0, 1)), r.error.is_(None)
            ).limit(1)
        ).first()
        polled = conn.execute(
            newest.where(r.finished_at.is_not(None), r.mode == "changed").limit(1)
        ).first()
        going = conn.execute(
            select(self.runs).where(r.finished_at.is_(None)).order_by(r.id.desc()).limit(20)
        )
        return RunOverview(
            last=RunRecord(**last._mapping) if last else None,
            last_success=RunRecord(**success._mapping) if success else None,
            last_poll=RunRecord(**polled._mapping) if polled else None,
            unfinished=tuple(RunRecord(**row._mapping) for row in going),
        )

    def get_run(self, conn: Connection, run_id: int) -> RunRecord | None:
        row = conn.execute(select(self.runs).where(self.runs.c.id == run_id)).first()
        return RunRecord(**row._mapping) if row is not None else None
