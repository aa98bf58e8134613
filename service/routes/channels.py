"""Channel states, timelines and the registers: measures, commitments, and the old sanctions view."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from diplo.events.catalog import CHANNEL_PATTERN
from diplo.events.parties import party_problem
from diplo.projections import Commitment
from diplo.service.auth import require
from diplo.service.problems import bad_request, documented, not_found
from diplo.service.routes.dependencies import AppEventLog, AppProjections, Day, Moment
from diplo.service.routes.params import AsOf, KnownAt, as_of_date, known_at_instant
from diplo.service.routes.web import channel_page
from diplo.service.schemas import ChannelOut, ChannelsOut, MeasuresOut, SanctionOut, SanctionsOut, TimelineOut

ChannelSlug = Annotated[
    str, Parameter(pattern=CHANNEL_PATTERN, max_length=80, description="Channel slug, e.g. us-cn-mmca")
]
READ_ERRORS = {
    400: documented(
        400,
        "A query parameter is not valid",
        "as_of: '2024-W01-1' is not a calendar date in YYYY-MM-DD form, e.g. 2024-01-31",
        field="as_of",
    ),
    401: documented(
        401,
        "A reader token is required (when the server requires one)",
        "this route needs a reader token: send Authorization: Bearer <token>",
    ),
}
NOT_FOUND = {404: documented(404, "No channel of this name was ever recorded", "no channel 'us-cn-mmcaa' in the log")}
PartyCode = Annotated[
    str | None,
    Parameter(
        max_length=10,
        description="A party code: ISO 3166-1 alpha-3 (USA, CHN, ...) or an organisation (EU, UN, NATO, ...)",
    ),
]
MeasureKind = Annotated[
    Literal["sanction", "tariff", "export_control", "entity_listing", "visa_restriction", "countermeasure", "other"]
    | None,
    Parameter(description="Only measures of this kind"),
]
MeasureStatus = Annotated[
    Literal["in_force", "suspended", "lifted", "expired"] | None,
    Parameter(description="Only measures with this status on the day asked about"),
]
CommitmentStatus = Annotated[
    Literal["open", "fulfilled", "partly_fulfilled", "breached", "withdrawn"] | None,
    Parameter(description="Only commitments with this status on the day asked about"),
]


def party_code(value: str | None) -> str | None:
    problem = party_problem(value) if value is not None else None
    if problem:
        raise bad_request(f"party: {problem}", "party")
    return value


def _unknown_channel(channel: str, known_at: str | None) -> Exception:
    # Only a channel never recorded at all: one recorded after known_at answers status unknown, known false.
    return not_found(f"no channel {channel!r} in the log")


class ChannelController(Controller):
    path = "/channels"
    tags = ["channels"]
    guards = [require("reader")]

    @get("/", responses=READ_ERRORS, sync_to_thread=False)
    def list_channels(self, projections: AppProjections, day: Day, moment: Moment) -> ChannelsOut:
        """Every channel's state on ``as_of`` as known at ``known_at``."""
        states = projections.all_channels(day, moment)
        return ChannelsOut(as_of=day, known_at=moment, channels=[ChannelOut.of(s, day, moment) for s in states])

    @get("/{channel:str}", responses={**READ_ERRORS, **NOT_FOUND}, sync_to_thread=False)
    def channel(
        self,
        request: Request[Any, Any, Any],
        projections: AppProjections,
        event_log: AppEventLog,
        channel: ChannelSlug,
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> Response[ChannelOut]:
        """One channel's state: status, since when, meetings, the event that set it.

        A browser (Accept: text/html) gets the channel's page: its timeline, events, officials and registers."""
        if request.accept.best_match(["application/json", "text/html"], "application/json") == "text/html":
            page = channel_page(event_log, projections, channel, request.query_params)
            if page is not None:
                return page  # type: ignore[return-value]  # a Template is a Response to litestar, not to mypy
        # Parsed here, not given as day/moment: the page's form sends empty and zone-less values the API refuses.
        day, moment = as_of_date(as_of), known_at_instant(known_at)
        found = projections.channel_state(channel, day, moment)
        if found is None:
            raise _unknown_channel(channel, moment)
        return Response(ChannelOut.of(found, day, moment))

    @get("/{channel:str}/timeline", responses={**READ_ERRORS, **NOT_FOUND}, sync_to_thread=False)
    def timeline(self, projections: AppProjections, channel: ChannelSlug, moment: Moment) -> TimelineOut:
        """Status intervals {status, from, to, event_id}; ``to`` is null for the open one."""
        found = projections.timeline(channel, moment)
        if found is None:
            raise _unknown_channel(channel, moment)
        return TimelineOut(channel=channel, known_at=moment, intervals=found)


class RegisterController(Controller):
    path = "/"
    tags = ["registers"]
    guards = [require("reader")]

    @get("/sanctions", responses=READ_ERRORS, sync_to_thread=False, deprecated=True)
    def sanctions(self, projections: AppProjections, day: Day, moment: Moment) -> SanctionsOut:
        """Deprecated: use ``GET /measures?kind=sanction``. Sanctions recorded as sanction_applied/sanction_lifted
        in force on ``as_of``, as known at ``known_at``."""
        found = projections.sanctions_in_force(day, moment)
        return SanctionsOut(as_of=day, known_at=moment, sanctions=[SanctionOut.of(i) for i in found])

    @get("/measures", responses=READ_ERRORS, sync_to_thread=False)
    def measures(
        self,
        projections: AppProjections,
        day: Day,
        moment: Moment,
        kind: MeasureKind = None,
        party: PartyCode = None,
        status: MeasureStatus = None,
    ) -> MeasuresOut:
        """The measures register on ``as_of`` (today if none), as known at ``known_at``: each measure imposed by
        then with its status and terms that day and its periods (rate history); ``party`` matches by or against."""
        found = projections.measures(day, moment, kind, party_code(party), status)
        return MeasuresOut(as_of=day, known_at=moment, measures=found)

    @get("/commitments", responses=READ_ERRORS, sync_to_thread=False)
    def commitments(
        self,
        projections: AppProjections,
        channel: Annotated[str | None, Parameter(pattern=CHANNEL_PATTERN, max_length=80)] = None,
        *,  # keyword-only: channel stays the first query parameter documented, before as_of and known_at
        day: Day,
        moment: Moment,
        status: CommitmentStatus = None,
        party: PartyCode = None,
    ) -> list[Commitment]:
        """Commitments made through channels by ``as_of``, each with its status on that day (open, fulfilled,
        partly_fulfilled, breached, withdrawn), as known at ``known_at``; filters ``status`` and ``party`` (by)."""
        return projections.commitments(channel, day, moment, status, party_code(party))
