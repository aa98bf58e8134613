"""The log's schema, created and migrated with sqlite-utils' Migrations."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from diplo.events.errors import SchemaTooNew

migrations = Migrations("diplo.events")


@migrations()
def m001_events(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            channel TEXT NOT NULL,
            version INTEGER NOT NULL,
            occurred_on TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            body BLOB NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            writer TEXT
        ) STRICT
        """
    )
    db.execute("CREATE UNIQUE INDEX events_channel_version ON events (channel, version)")
    db.execute("CREATE INDEX events_channel_occurred ON events (channel, occurred_on, seq)")
    db.execute("CREATE INDEX events_type_occurred ON events (type, occurred_on)")
    db.execute("CREATE INDEX events_recorded_at ON events (recorded_at)")
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"""
            CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only: {action} is refused'); END
            """
        )


@migrations()
def m002_tokens(db: Database) -> None:
    # Tokens live beside the log, never in it: they are hashed credentials.
    db.execute(
        """
        CREATE TABLE tokens (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT
        """
    )


@migrations()
def m003_idempotency_keys(db: Database) -> None:
    # Idempotency-Key answers, kept beside the log and written in the append's transaction,
    # so a retry after a restart, or to another server process, gets the original receipts.
    db.execute(
        """
        CREATE TABLE idempotency_keys (
            writer TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            receipts BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (writer, key)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)")


KNOWN = {m.name for m in migrations._migrations}


def migrate(db: Database) -> None:
    """Apply pending migrations; refuse a database of a newer schema."""
    applied = {m.name for m in migrations.applied(db)}
    newer = sorted(applied - KNOWN)
    if newer:
        raise SchemaTooNew(
            f"this database has schema migrations this version of diplo does not know: {', '.join(newer)};"
            " upgrade diplo to open it"
        )
    migrations.apply(db)
