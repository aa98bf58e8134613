"""Settings from the environment (flags on the command line override them)."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, kw_only=True):
    db: Path = Path("data/diplo.db")
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str | None = None
    seed: bool = True
    log_format: str | None = None  # json | console; default: console on a terminal
    read_token_required: bool = False
    cors_origins: list[str] = []
    max_body_bytes: int = 1_048_576
    verify_tail: int = 1_000

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            db=Path(env.get("DIPLO_DB", "data/diplo.db")),
            host=env.get("DIPLO_HOST", "127.0.0.1"),
            port=int(env.get("DIPLO_PORT", "8000")),
            admin_token=env.get("DIPLO_ADMIN_TOKEN") or None,
            seed=env.get("DIPLO_SEED", "1") != "0",
            log_format=env.get("DIPLO_LOG_FORMAT") or None,
            read_token_required=env.get("DIPLO_READ_TOKEN_REQUIRED", "0") == "1",
            cors_origins=[o for o in env.get("DIPLO_CORS_ORIGINS", "").split(",") if o],
            max_body_bytes=int(env.get("DIPLO_MAX_BODY_BYTES", "1048576")),
        )
