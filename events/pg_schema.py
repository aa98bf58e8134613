"""The log's schema on PostgreSQL: the same tables and guarantees as events/schema.py.

Text columns compare byte-wise (COLLATE "C"), as SQLite's do: dates and ``recorded_at``
are fixed-width text whose order must not depend on the server's locale.
"""

from __future__ import annotations

from typing import Any

from diplo.events.errors import SchemaTooNew

MIGRATE_LOCK = 0x6469706C6F00  # "diplo" 00: one process migrates at a time

MIGRATIONS: list[tuple[str, str]] = [
    (
        "m001_events",
        """
        CREATE TABLE events (
            seq BIGINT PRIMARY KEY,
            id TEXT COLLATE "C" NOT NULL UNIQUE,
            type TEXT COLLATE "C" NOT NULL,
            channel TEXT COLLATE "C" NOT NULL,
            version INTEGER NOT NULL,
            occurred_on TEXT COLLATE "C" NOT NULL,
            recorded_at TEXT COLLATE "C" NOT NULL,
            body BYTEA NOT NULL,
            prev_hash TEXT COLLATE "C" NOT NULL,
            hash TEXT COLLATE "C" NOT NULL,
            writer TEXT COLLATE "C"
        );
        CREATE UNIQUE INDEX events_channel_version ON events (channel, version);
        CREATE INDEX events_channel_occurred ON events (channel, occurred_on, seq);
        CREATE INDEX events_type_occurred ON events (type, occurred_on);
        CREATE INDEX events_recorded_at ON events (recorded_at);
        CREATE FUNCTION diplo_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are append-only: % is refused', TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END $$;
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            FOR EACH ROW EXECUTE FUNCTION diplo_events_append_only();
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION diplo_events_append_only();
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION diplo_events_append_only();
        """,
    ),
    (
        "m002_tokens",
        # Tokens live beside the log, never in it: they are hashed credentials.
        """
        CREATE TABLE tokens (
            name TEXT COLLATE "C" PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
            token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
            created_at TEXT COLLATE "C" NOT NULL,
            revoked_at TEXT COLLATE "C"
        );
        """,
    ),
    (
        "m003_idempotency_keys",
        # Written in the append's transaction: a retry to any server gets the original receipts.
        """
        CREATE TABLE idempotency_keys (
            writer TEXT COLLATE "C" NOT NULL,
            key TEXT COLLATE "C" NOT NULL,
            fingerprint TEXT COLLATE "C" NOT NULL,
            receipts BYTEA NOT NULL,
            created_at TEXT COLLATE "C" NOT NULL,
            PRIMARY KEY (writer, key)
        );
        CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
        """,
    ),
    (
        "m004_app_role",
        # The role servers should connect as (through a login role IN ROLE diplo_app): it may read
        # and append to the log but never UPDATE, DELETE or TRUNCATE it, whatever the triggers.
        # Created only if the migrating role may create roles; else a DBA creates it, same grants.
        """
        REVOKE ALL ON events FROM PUBLIC;
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'diplo_app')
               AND (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
                BEGIN
                    CREATE ROLE diplo_app NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;  -- created meanwhile for another database of the cluster
                END;
            END IF;
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'diplo_app') THEN
                EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO diplo_app', current_schema());
                GRANT SELECT, INSERT ON events TO diplo_app;
                GRANT SELECT, INSERT, UPDATE, DELETE ON tokens, idempotency_keys TO diplo_app;
                GRANT SELECT ON diplo_migrations TO diplo_app;
            END IF;
        END $$;
        """,
    ),
]
APP_ROLE = "diplo_app"
KNOWN = {name for name, _ in MIGRATIONS}


def migrate(conn: Any) -> None:
    """Apply pending migrations in one transaction, one process at a time; refuse a newer schema.

    ``conn`` is an autocommit psycopg connection.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        if conn.execute("SELECT to_regclass('diplo_migrations')").fetchone()[0] is None:
            conn.execute("CREATE TABLE diplo_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
        applied = {name for (name,) in conn.execute("SELECT name FROM diplo_migrations")}
        newer = sorted(applied - KNOWN)
        if newer:
            raise SchemaTooNew(
                f"this database has schema migrations this version of diplo does not know: {', '.join(newer)};"
                " upgrade diplo to open it"
            )
        for name, sql in MIGRATIONS:
            if name not in applied:
                conn.execute(sql)
                conn.execute("INSERT INTO diplo_migrations (name, applied_at) VALUES (%s, now())", (name,))


# True when this session should act as diplo_app: its user is a member (not a superuser, and not
# the owner of the log, who migrates). Objects it creates (the projection tables) are then owned by
# diplo_app, so any server's login role may replay them.
ACT_AS_APP = """
    SELECT r.oid IS NOT NULL AND NOT u.rolsuper AND pg_has_role(u.oid, r.oid, 'MEMBER')
        AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = to_regclass('events') AND c.relowner = u.oid)
    FROM pg_roles u LEFT JOIN pg_roles r ON r.rolname = 'diplo_app' WHERE u.rolname = current_user
"""


def act_as_app(conn: Any) -> None:
    """SET ROLE diplo_app on a connection of a member of it (see ACT_AS_APP)."""
    found = conn.execute(ACT_AS_APP).fetchone()
    if found and found[0]:
        conn.execute(f"SET ROLE {APP_ROLE}")
