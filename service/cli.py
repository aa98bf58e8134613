"""The ``diplo`` command: a thin layer over the library."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click
import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from diplo.events import EventLog, LogError, SQLiteLog, clock
from diplo.events.backends import open_log
from diplo.projections.queries import upcoming_only
from diplo.service import logs, tokens
from diplo.service.interop import candidates as queue
from diplo.service.interop import exports
from diplo.service.interop.datasets import DATASETS, DatasetError
from diplo.service.loading import LoadError, load_file, paused_gc
from diplo.service.loading import export as export_log
from diplo.service.migrate import migrate as migrate_log
from diplo.service.runtime import open_projections
from diplo.service.schemas import ChannelOut, ChannelsOut
from diplo.service.settings import Settings, database, describe

Database = str | Path  # a SQLite file's Path, or a PostgreSQL URL

console = Console(stderr=True, soft_wrap=True)  # never wrap a path or a hash across lines


def _database(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Database:
    try:
        return Settings.from_env(db=value).db
    except (ValueError, msgspec.ValidationError) as error:
        raise click.BadParameter(str(error).split(" - at ")[0]) from None


db_option = click.option(
    "--db",
    "db",
    default=None,
    callback=_database,
    help=f"The database: a SQLite file or postgresql://user@host/dbname (env DIPLO_DB; default {Settings().db}).",
)


def _file_only(db: Database, command: str) -> Path:
    """Commands that copy files work on SQLite; on PostgreSQL, say what to use instead."""
    if isinstance(db, Path):
        return db
    raise click.ClickException(
        f"{command} copies a SQLite file; for PostgreSQL use pg_dump, or diplo migrate --to sqlite:///FILE"
    )


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a sentence.")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def _appending(progress: Progress, count: int) -> Callable[[], None]:
    """A second bar for a file's one transaction (placing, chaining, projections), pulsing until it commits."""
    task = progress.add_task(f"  appending {count:,} events in one transaction", total=None)
    return lambda: progress.update(task, total=count, completed=count)


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return clock.parse_as_of(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _instant(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return clock.parse_known_at(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


class _Group(click.Group):
    """Turns the log's refusals (e.g. a database of a newer schema) into a message, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LogError as error:
            raise click.ClickException(error.message) from None


@click.group(cls=_Group)
@click.version_option(package_name="diplo")
def cli() -> None:
    """diplo: the state of diplomatic communication channels, from an append-only event log."""
    logs.configure(None, level=logging.WARNING)  # `serve` turns request logs on


@cli.command()
@db_option
@click.option("--host", default=None, help=f"Listen address (env DIPLO_HOST; default {Settings().host}).")
@click.option("--port", default=None, type=int, help=f"Port (env DIPLO_PORT; default {Settings().port}).")
@click.option("--server", type=click.Choice(["granian", "uvicorn"]), default="granian", show_default=True)
def serve(db: Database, host: str | None, port: int | None, server: str) -> None:
    """Start the HTTP service (seeding a fresh database from seeds/).

    Example: diplo serve --port 8000
    """
    from diplo.service.server import run

    run(Settings.from_env(db=db, host=host, port=port), server)


@cli.command()
@db_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(db: Database, files: tuple[Path, ...]) -> None:
    """Append events from JSON Lines files, one atomic batch per file.

    Re-loading a file appends nothing: an event with an id is matched by its id, and a line
    without an id gets one derived from its content, so the same line always gets the same id.

    Example: diplo load seeds/*.jsonl
    """
    log = open_log(db)
    projections = open_projections(log)
    try:
        with _progress() as progress:
            for path in files:
                lines = sum(1 for _ in path.open("rb"))
                task = progress.add_task(path.name, total=lines)

                def advance(done: int, task: TaskID = task) -> None:
                    progress.advance(task, done)

                try:
                    with paused_gc():
                        result = load_file(
                            log,
                            path,
                            writer="cli",
                            progress=advance,
                            appending=lambda count: _appending(progress, count),
                        )
                except LoadError as error:
                    console.print(f"[red]error[/red] {error} (nothing of this file was loaded)")
                    sys.exit(1)
                console.print(
                    f"{path}: {plural(result.events, 'event')}, {result.appended:,} appended,"
                    f" {result.already_present:,} already present",
                    markup=False,
                )
    finally:
        del projections
        log.close()


@cli.command()
@db_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["log", *exports.FORMATS]),
    default="log",
    show_default=True,
    help="log: the log itself; plover: PLOVER JSON Lines; icews: dyadic CSV; panel: dyad-month panel CSV.",
)
@click.option("--as-of", callback=_date, help="plover, icews, panel: the world on this day (YYYY-MM-DD).")
@click.option("--known-at", callback=_instant, help="plover, icews, panel: as the log stood at this moment.")
def export(db: Database, output: Path | None, fmt: str, as_of: dt.date | None, known_at: str | None) -> None:
    """Write the whole log as JSON Lines in seq order (load takes it back, same hashes),
    or the record in a format event-data tools load (see "Working with event data" in the README).

    Example: diplo export -o log.jsonl; diplo export --format panel --as-of 2025-12-31 -o panel.csv
    """
    if fmt == "log" and (as_of or known_at):
        raise click.UsageError(
            "--as-of and --known-at apply to --format plover, icews and panel; the log is exported whole"
        )
    log = open_log(db)
    try:
        handle = sys.stdout.buffer if output is None else output.open("wb")
        try:
            if fmt == "log":
                count = export_log(log, handle)
                noun = "event"
            else:
                snapshot = exports.Snapshot(log, open_projections(log), as_of, known_at)
                count = -1 if fmt != "plover" else 0  # the CSVs' header line is not a record
                for line in exports.lines(fmt, snapshot):
                    handle.write(line)
                    count += 1
                noun = "record" if fmt == "plover" else "row"
        finally:
            if output is not None:
                handle.close()
        console.print(f"exported {plural(count, noun)}")
    finally:
        log.close()


@cli.command()
@db_option
@json_option
def verify(db: Database, as_json: bool) -> None:
    """Recompute the hash chain; exit 1 and name the first bad seq if it is broken.

    Example: diplo verify
    """
    log = open_log(db)
    try:
        result = log.verify()
    finally:
        log.close()
    if as_json:
        click.echo(msgspec.json.encode(result).decode())
    elif result.ok:
        click.echo(f"chain intact: {plural(result.checked, 'event')} checked; head seq {result.head.seq}")
        click.echo(f"head hash {result.head.hash}")
    else:
        console.print(f"[red]chain broken at seq {result.bad_seq}[/red]: {result.problem}", highlight=False)
    if not result.ok:
        sys.exit(1)


@cli.command()
@db_option
@click.option("--check", is_flag=True, help="Rebuild into scratch tables and report drift; change nothing.")
def replay(db: Database, check: bool) -> None:
    """Rebuild every projection from the log (swapped in atomically at the end).

    Example: diplo replay --check
    """
    log = open_log(db)
    try:
        projections = open_projections(log)
        total = log.head().seq
        with _progress() as progress:
            task = progress.add_task("replay", total=total)

            def advance(n: int) -> None:
                progress.advance(task, n)

            if check:
                stats, drift = projections.check(advance)
            else:
                stats, drift = projections.replay(advance), []
        console.print(
            f"{plural(stats.events, 'event')}, {plural(stats.channels, 'channel')} in {stats.seconds:.3f} s"
            f" ({stats.events_per_second:,.0f} events/s)"
        )
        if check:
            differing = [d for d in drift if d.only_live or d.only_rebuilt]
            for d in drift:
                console.print(f"{d.table}: {d.only_live} rows only live, {d.only_rebuilt} only rebuilt")
            if differing:
                console.print("[red]drift: the live projections differ from a fresh replay[/red]")
                sys.exit(1)
            console.print("no drift")
    finally:
        log.close()


@cli.command()
@db_option
@click.option("--as-of", callback=_date, help="The world on this day (YYYY-MM-DD).")
@click.option("--known-at", callback=_instant, help="As the log stood at this moment (RFC 3339 or a date).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table (the shape of GET /channels).")
def status(db: Database, as_of: dt.date | None, known_at: str | None, as_json: bool) -> None:
    """Every channel's state, as a table.

    Example: diplo status --as-of 2023-06-01
    """
    log = open_log(db)
    try:
        states = [upcoming_only(s, as_of) for s in open_projections(log).all_channels(as_of, known_at)]
    finally:
        log.close()
    if as_json:
        channels = [ChannelOut.of(s, as_of, known_at) for s in states]
        click.echo(msgspec.json.encode(ChannelsOut(as_of=as_of, known_at=known_at, channels=channels)).decode())
        return
    table = Table(title=f"channels as of {as_of or 'today'}" + (f", known at {known_at}" if known_at else ""))
    for column in ("channel", "name", "status", "since", "last meeting", "next meeting"):
        table.add_column(column)
    colours = {
        "active": "green",
        "agreed": "cyan",
        "restricted": "magenta",
        "suspended": "yellow",
        "closed": "red",
        "unknown": "dim",
    }
    for s in states:
        table.add_row(
            s.channel,
            s.name or "",
            f"[{colours[s.status]}]{s.status}[/]",
            str(s.since or ""),
            str(s.last_meeting or ""),
            str(s.next_meeting or ""),
        )
    Console(width=None if console.is_terminal else 160).print(table)


@cli.group()
def token() -> None:
    """Manage bearer tokens (stored as hashes)."""


@token.command("create")
@db_option
@click.option("--role", type=click.Choice(list(tokens.RANKS)), required=True)
@click.option("--name", help="A name to recognise the token by (default: generated).")
def token_create(db: Database, role: str, name: str | None) -> None:
    """Create a token and print it once.

    Example: diplo token create --role writer --name newsroom
    """
    log = open_log(db)  # creates and migrates the database if needed
    try:
        name, secret = tokens.create(log.reader(), role, name)  # type: ignore[arg-type]  # either backend's reader
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        log.close()
    console.print(f"token {name!r} ({role}); it is shown only now:")
    click.echo(secret)


@token.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line instead of a table.")
def token_list(db: Database, as_json: bool) -> None:
    """List tokens (names and roles; secrets are never stored).

    Example: diplo token list
    """
    log = open_log(db)
    try:
        listed = tokens.listing(log.reader())
    finally:
        log.close()
    if as_json:
        for info in listed:
            click.echo(json.dumps(msgspec.to_builtins(info)))
        return
    table = Table(title=plural(len(listed), "token"))
    for column in ("name", "role", "created", "revoked"):
        table.add_column(column)
    for info in listed:
        table.add_row(
            info.name, info.role, info.created_at, info.revoked_at or "", style="dim" if info.revoked_at else None
        )
    Console(width=None if console.is_terminal else 160).print(table)


@token.command("revoke")
@db_option
@click.argument("name")
def token_revoke(db: Database, name: str) -> None:
    """Revoke a token by name.

    Example: diplo token revoke newsroom
    """
    log = open_log(db)
    try:
        if not tokens.revoke(log.reader(), name):
            raise click.ClickException(f"no active token named {name!r}")
    finally:
        log.close()
    console.print(f"revoked {name!r}")


@cli.command()
@db_option
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def backup(db: Database, target: Path, as_json: bool) -> None:
    """Copy the database online, while the service runs (SQLite's backup API).

    Example: diplo backup backups/diplo-2026-11-29.db
    """
    db = _file_only(db, "backup")
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    log = SQLiteLog(db)
    try:
        head = log.backup(target)
    finally:
        log.close()
    if as_json:
        click.echo(msgspec.json.encode(head).decode())
    else:
        click.echo(f"backed up {plural(head.seq, 'event')} to {target}")
        click.echo(f"head hash {head.hash}")


@cli.command()
@db_option
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing database file.")
@json_option
def restore(db: Database, source: Path, force: bool, as_json: bool) -> None:
    """Restore a backup into the database file (stop the service first); the chain is verified first.

    Example: diplo restore backups/diplo-2026-11-29.db --db data/diplo.db
    """
    db = _file_only(db, "restore")
    if db.exists() and not force:
        raise click.ClickException(f"{db} exists; stop the service and pass --force to replace it")
    backup_log = SQLiteLog(source)
    try:
        result = backup_log.verify()
        if not result.ok:
            raise click.ClickException(f"the backup's chain is broken at seq {result.bad_seq}: {result.problem}")
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        db.unlink(missing_ok=True)
        head = backup_log.backup(db)
    finally:
        backup_log.close()
    if as_json:
        click.echo(msgspec.json.encode(head).decode())
    else:
        click.echo(f"restored {plural(head.seq, 'event')} into {db}")
        click.echo(f"head hash {head.hash}")


@cli.group()
def candidates() -> None:
    """The review queue: candidate events from POLECAT, ICEWS or GDELT files, accepted or rejected by a reviewer."""


def _queue(db: Database) -> tuple[EventLog, queue.CandidateStore]:
    log = open_log(db)  # creates and migrates the database if needed
    return log, queue.CandidateStore(db)


@candidates.command("import")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(DATASETS), required=True, help="The dataset's file format.")
@click.option(
    "--dyad", help="Keep only rows between these two parties (e.g. USA-CHN); default: parties with a channel."
)
@json_option
def candidates_import(db: Database, file: Path, fmt: str, dyad: str | None, as_json: bool) -> None:
    """Read a dataset file and queue its rows between parties that have a channel (or --dyad) as candidates.

    Duplicates are dropped, near-duplicates across sources kept as more reports of one candidate;
    nothing reaches the log until accepted. Example: diplo candidates import week.tsv --format polecat
    """
    log, store = _queue(db)
    try:
        dyads = [queue.parse_dyad(dyad)] if dyad is not None else queue.channel_dyads(open_projections(log))
        result = store.import_file(file, fmt, dyads)
    except queue.ReviewError as error:
        raise click.BadParameter(error.message, param_hint="--dyad") from None
    except DatasetError as error:
        raise click.ClickException(f"{file}: {error} (nothing was imported)") from None
    finally:
        log.close()
    if as_json:
        click.echo(msgspec.json.encode(result).decode())
        return
    why = {"code": "code diplo does not record", "party": "party unknown", "date": "no date", "self": "one party"}
    skipped = ", ".join(f"{n:,} {why.get(k, k)}" for k, n in sorted(result.skipped.items())) or "none"
    console.print(
        f"{file}: {plural(result.rows, 'row')}; {plural(result.candidates, 'new candidate')},"
        f" {result.merged:,} merged into earlier candidates, {plural(result.duplicates, 'duplicate')} dropped,"
        f" {result.already_imported:,} already imported, {result.other_dyad:,} between other parties;"
        f" not read: {skipped}",
        markup=False,
    )


@candidates.command("list")
@db_option
@click.option("--status", type=click.Choice([*queue.STATUSES, "all"]), default="pending", show_default=True)
@click.option("--dyad", help="Only this pair of parties (e.g. USA-CHN).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1_000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line instead of a table.")
def candidates_list(db: Database, status: str, dyad: str | None, limit: int, as_json: bool) -> None:
    """List candidates by day, with what reported them.

    Example: diplo candidates list --status pending
    """
    log, store = _queue(db)
    log.close()
    try:
        pair = queue.parse_dyad(dyad) if dyad else None
    except queue.ReviewError as error:
        raise click.BadParameter(error.message, param_hint="--dyad") from None
    found = store.listing(None if status == "all" else status, pair, limit)
    if as_json:
        for candidate in found:
            click.echo(msgspec.json.encode(candidate).decode())
        return
    table = Table(title=f"{plural(len(found), 'candidate')} ({status})")
    for column in ("id", "day", "parties", "type", "reports", "status", "summary"):
        table.add_column(column)
    for c in found:
        reports = "; ".join(f"{r.dataset} {r.code} {r.source}" for r in c.reports)
        table.add_row(c.id, c.occurred_on, f"{c.actor}-{c.recipient}", c.type, reports, c.status, c.summary)
    Console(width=None if console.is_terminal else 200).print(table)


def _field(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, object]:
    """NAME=VALUE pairs; a VALUE that is JSON (a list, a number) is read as JSON, else as text."""
    fields: dict[str, object] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE (e.g. reason='called off')")
        try:
            fields[name] = json.loads(value) if value[:1] in "[{" else value
        except json.JSONDecodeError:
            raise click.BadParameter(f"{name}: {value!r} is not valid JSON") from None
    return fields


@candidates.command("accept")
@db_option
@click.argument("candidate_id")
@click.option("--channel", required=True, help="The channel the event belongs to.")
@click.option("--type", "type_", help="Another event type than the one the dataset's code maps to.")
@click.option("--field", "fields", multiple=True, callback=_field, help="NAME=VALUE for a field of the event.")
@click.option("--reviewer", default="cli", show_default=True, help="Recorded as the event's writer.")
@json_option
def candidates_accept(
    db: Database, candidate_id: str, channel: str, type_: str | None, fields: dict, reviewer: str, as_json: bool
) -> None:
    """Append a candidate as an event (through the log's normal path; accepting twice appends once).

    Example: diplo candidates accept 6b0c... --channel us-cn-mmca --field level=working
    """
    log, store = _queue(db)
    body = {**fields, "channel": channel, **({"type": type_} if type_ else {})}
    try:
        accepted, created = store.accept(log, open_projections(log), candidate_id, body, reviewer)
    except queue.ReviewError as error:
        raise click.ClickException(error.message) from None
    finally:
        log.close()
    if as_json:
        click.echo(msgspec.json.encode(accepted).decode())
        return
    verb = "appended" if created else "already in the log as"
    click.echo(f"{verb} event {accepted.receipt.id} (seq {accepted.receipt.seq}) on {channel}")


@candidates.command("reject")
@db_option
@click.argument("candidate_id")
@click.option("--reason", required=True, help="Why it is rejected (e.g. 'wrong actors').")
@click.option("--reviewer", default="cli", show_default=True)
def candidates_reject(db: Database, candidate_id: str, reason: str, reviewer: str) -> None:
    """Reject a candidate with a reason; it never reaches the log.

    Example: diplo candidates reject 6b0c... --reason "a different meeting"
    """
    log, store = _queue(db)
    log.close()
    try:
        store.reject(candidate_id, reason, reviewer)
    except queue.ReviewError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"rejected {candidate_id}")


def _url(_ctx: click.Context, _param: click.Parameter, value: str) -> Database:
    try:
        return database(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@cli.command()
@click.option("--from", "source", required=True, callback=_url, help="The log to copy: a SQLite file or URL.")
@click.option("--to", "target", required=True, callback=_url, help="Where to: a SQLite file or URL, empty or a prefix.")
@json_option
def migrate(source: Database, target: Database, as_json: bool) -> None:
    """Copy a log to another database, every row as it is (seq, recorded_at, hash), then its tokens;
    the target's projections are built from it. Run it again to copy what was appended since.

    Example: diplo migrate --from sqlite:///data/diplo.db --to postgresql://diplo@db.internal/diplo
    """
    if str(source) == str(target):
        raise click.ClickException("--from and --to name the same database")
    with _progress() as progress:
        task = progress.add_task("migrate", total=None)
        result = migrate_log(source, target, progress=lambda n: progress.advance(task, n))
    if as_json:
        click.echo(msgspec.json.encode(result).decode())
        return
    click.echo(
        f"copied {plural(result.copied, 'event')} ({plural(result.already_there, 'event')} already there)"
        f" and {plural(result.tokens, 'token')} from {describe(source)} to {describe(target)}"
    )
    click.echo(f"head seq {result.head.seq}, hash {result.head.hash}; the target's chain verifies")
