"""Bearer tokens: stored only as SHA-256 hashes, beside the log and never in it.

Tokens are 256-bit random strings, so a fast hash is enough: there is no
password to brute-force. Every function takes the log's ``reader()`` (or a sqlite3
connection): SQLite's SQL, translated on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Literal

import msgspec

from diplo.events import clock

Role = Literal["reader", "writer", "admin"]
RANKS: dict[str, int] = {"reader": 1, "writer": 2, "admin": 3}
PREFIX = "diplo_"


class TokenInfo(msgspec.Struct, kw_only=True):
    name: str
    role: Role
    created_at: str
    revoked_at: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(conn: Any, role: Role, name: str | None = None, token: str | None = None) -> tuple[str, str]:
    """Store a new token; returns (name, the token in clear, shown once)."""
    if role not in RANKS:
        raise ValueError(f"role must be one of {', '.join(RANKS)}")
    token = token or PREFIX + secrets.token_urlsafe(32)
    name = name or f"{role}-{secrets.token_hex(3)}"
    if not _insert(conn, role, name, token):
        raise ValueError(f"a token named {name!r} (or with the same secret) already exists")
    return name, token


def _insert(conn: Any, role: Role, name: str, token: str) -> bool:
    """Store the token unless one of that name or secret exists; whether it was stored. No error on a clash:
    servers starting together all try, and on PostgreSQL a failed statement would spoil the transaction."""
    cursor = conn.execute(
        "INSERT INTO tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (name, role, hash_token(token), clock.now_text()),
    )
    return bool(cursor.rowcount == 1)


def ensure(conn: Any, token: str, role: Role, name: str) -> None:
    """Make sure this exact token exists (DIPLO_ADMIN_TOKEN on every start), whoever else starts meanwhile."""
    if lookup(conn, token) is not None:
        return
    # Another token under this name gives way; the same one, made a moment ago by a server starting too, stays.
    digest = hash_token(token)
    conn.execute("DELETE FROM tokens WHERE name = ? AND NOT (token_hash = ? AND revoked_at IS NULL)", (name, digest))
    if not _insert(conn, role, name, token) and lookup(conn, token) is None:
        raise ValueError(f"a token named {name!r} (or with the same secret) already exists")


def create_first(conn: Any, role: Role, name: str) -> str | None:
    """A new token to show once, if the database has no active token yet; None if it has one, though another
    server, starting at the same moment, made it."""
    if any_active(conn):
        return None
    token = PREFIX + secrets.token_urlsafe(32)
    if _insert(conn, role, name, token):
        return token
    if any_active(conn):
        return None
    raise ValueError(f"a token named {name!r} exists but is revoked; create another with: diplo token create")


def any_active(conn: Any) -> bool:
    return conn.execute("SELECT 1 FROM tokens WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None


def listing(conn: Any) -> list[TokenInfo]:
    return [
        TokenInfo(name=n, role=r, created_at=c, revoked_at=v)
        for n, r, c, v in conn.execute("SELECT name, role, created_at, revoked_at FROM tokens ORDER BY created_at")
    ]


def revoke(conn: Any, name: str) -> bool:
    cursor = conn.execute(
        "UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (clock.now_text(), name)
    )
    return cursor.rowcount > 0


def lookup(conn: Any, token: str) -> TokenInfo | None:
    """The active token matching this secret, compared in constant time."""
    digest = hash_token(token)
    row = conn.execute(
        "SELECT name, role, created_at, token_hash FROM tokens WHERE token_hash = ? AND revoked_at IS NULL", (digest,)
    ).fetchone()
    if row is None or not hmac.compare_digest(row[3], digest):
        return None
    return TokenInfo(name=row[0], role=row[1], created_at=row[2])
