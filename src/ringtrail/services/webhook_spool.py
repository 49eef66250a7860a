"""The webhook spool: call events kept on local disk so a webhook can answer before the database.

Zadarma waits on the answer to NOTIFY_START before it routes the call, so that answer must not
wait for attribution or for a database that is slow or down. The webhook keeps the
notification's events here first (`keep`: one file written, flushed to disk with `fsync`,
then renamed into place, so a file is either whole or absent), answers, and ingests the file
after the answer is sent (`ingest_kept`), deleting it only once the database has committed.
If the process dies in between, or the database is down, the file stays and `replay` ingests
it later: the jobs runner calls it every pass and the web app once at start. Ingestion
dedupes by each event's `dedupe_key`, so a file ingested twice (a replay racing the answer's
own write) changes nothing the second time. The spool is per host: it lives in
`RINGTRAIL_DATA_DIR/spool/call-events`, which every process on the host shares.

Before ingesting, a provider's screen may drop what it recognises as replayed (Zadarma's
NOTIFY_START sent again under another call id: services.zadarma_replays).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ringtrail.domain.calls import CallEvent
from ringtrail.runtime import Runtime
from ringtrail.services.call_ingestion import CallIngestion, event_from_row, event_to_json
from ringtrail.services.zadarma_replays import screen_spooled

log = logging.getLogger(__name__)

SPOOL_DIR = Path("spool") / "call-events"
REPLAY_AFTER = timedelta(seconds=60)
"""A file this old was not ingested by the request that kept it (it died, or the database was
down): `replay` takes it. Younger files are the live requests' own."""
MAX_REPLAY = 200

Screen = Callable[[Session, Sequence[CallEvent], int | None, str], list[CallEvent]]
"""Takes the events of one kept request (with its project and sender address) and answers
those to ingest; may note refusals. Runs in the ingestion's own session."""


class WebhookSpool:
    """Keeps, ingests and replays spooled call events in `directory`."""

    def __init__(
        self,
        directory: Path,
        sessions: sessionmaker[Session],
        screens: dict[str, Screen] | None = None,
    ) -> None:
        self.directory = directory
        self.sessions = sessions
        self.screens = screens or {}

    def keep(
        self, events: Sequence[CallEvent], *, project_id: int | None, sender: str = ""
    ) -> Path:
        """Write `events` durably; the path of the file. OSError when the disk refuses."""
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {
            "project_id": project_id,
            "sender": sender,
            "events": [_event_record(event) for event in events],
        }
        name = f"{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex}.json"
        temporary = self.directory / f".{name}.tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(record, file, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        path = self.directory / name
        os.replace(temporary, path)
        _sync_directory(self.directory)
        return path

    def ingest_kept(self, path: Path) -> bool:
        """Ingest one kept file and delete it; False (the file stays) when that failed."""
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return True  # a replay or the live request already took it
        except (OSError, ValueError):
            log.exception("spooled call events in %s cannot be read", path.name)
            return False
        try:
            events = [_event_from_record(item) for item in record["events"]]
            project_id = record.get("project_id")
            events = self._screened(events, project_id, str(record.get("sender") or ""))
            if events:
                CallIngestion(self.sessions).ingest_many(events, project_id=project_id)
        except Exception:
            log.warning("spooled call events in %s wait for a replay", path.name, exc_info=True)
            return False
        path.unlink(missing_ok=True)
        return True

    def replay(self, now: datetime, *, older_than: timedelta = REPLAY_AFTER) -> int:
        """Ingest files kept before `now - older_than`; the number ingested."""
        if not self.directory.is_dir():
            return 0
        cutoff = (now - older_than).timestamp()
        done = 0
        for path in sorted(self.directory.glob("*.json"))[:MAX_REPLAY]:
            try:
                if path.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            if self.ingest_kept(path):
                done += 1
        return done

    def pending(self) -> list[Path]:
        """The files waiting to be ingested, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))

    def _screened(
        self, events: list[CallEvent], project_id: int | None, sender: str
    ) -> list[CallEvent]:
        providers = {event.provider for event in events}
        screens = [self.screens[name] for name in providers if name in self.screens]
        if not screens:
            return events
        with self.sessions() as db:
            for screen in screens:
                events = screen(db, events, project_id, sender)
            db.commit()
        return events


def spool_for(runtime: Runtime) -> WebhookSpool:
    """The host's spool, with every provider's screen."""
    return WebhookSpool(
        runtime.settings.data_dir / SPOOL_DIR, runtime.sessions, {"zadarma": screen_spooled}
    )


def _event_record(event: CallEvent) -> dict[str, Any]:
    return {
        "provider": event.provider,
        "provider_call_id": event.provider_call_id,
        "dedupe_key": event.dedupe_key,
        "event": event_to_json(event),
        "raw": dict(event.payload),
    }


def _event_from_record(item: dict[str, Any]) -> CallEvent:
    event = event_from_row(
        item["provider"], item["provider_call_id"], item["dedupe_key"], {"event": item["event"]}
    )
    return replace(event, payload=item.get("raw") or {})


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
