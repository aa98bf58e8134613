"""Channel states, timelines and the sanctions register."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import Parameter

from events.catalog import CHANNEL_PATTERN
from projections import Commitment
from service.auth import require
from service.problems import documented, not_found
from service.routes.params import AsOf, KnownAt, as_of_date, known_at_instant
from service.schemas import ChannelOut, ChannelsOut, SanctionsOut, TimelineOut

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
NOT_FOUND = {
    404: documented(404, "No such channel", "no channel 'us-cn-mmca' was known at 2020-01-01T00:00:00.000000Z")
}


def _unknown_channel(channel: str, known_at: str | None) -> Exception:
    return not_found(f"no channel {channel!r}" + (f" was known at {known_at}" if known_at else " in the log"))


class ChannelController(Controller):
    path = "/channels"
    tags = ["channels"]
    guards = [require("reader")]

    @get("/", responses=READ_ERRORS, sync_to_thread=False)
    def list_channels(self, state: State, as_of: AsOf = None, known_at: KnownAt = None) -> ChannelsOut:
        """Every channel's state on ``as_of`` as known at ``known_at``."""
        day, moment = as_of_date(as_of), known_at_instant(known_at)
        states = state.runtime.projections.all_channels(day, moment)
        return ChannelsOut(as_of=day, known_at=moment, channels=[ChannelOut.of(s, day, moment) for s in states])

    @get("/{channel:str}", responses={**READ_ERRORS, **NOT_FOUND}, sync_to_thread=False)
    def channel(self, state: State, channel: ChannelSlug, as_of: AsOf = None, known_at: KnownAt = None) -> ChannelOut:
        """One channel's state: status, since when, meetings, the event that set it."""
        day, moment = as_of_date(as_of), known_at_instant(known_at)
        found = state.runtime.projections.channel_state(channel, day, moment)
        if found is None:
            raise _unknown_channel(channel, moment)
        return ChannelOut.of(found, day, moment)

    @get("/{channel:str}/timeline", responses={**READ_ERRORS, **NOT_FOUND}, sync_to_thread=False)
    def timeline(self, state: State, channel: ChannelSlug, known_at: KnownAt = None) -> TimelineOut:
        """Status intervals {status, from, to, event_id}; ``to`` is null for the open one."""
        moment = known_at_instant(known_at)
        found = state.runtime.projections.timeline(channel, moment)
        if found is None:
            raise _unknown_channel(channel, moment)
        return TimelineOut(channel=channel, known_at=moment, intervals=found)


class RegisterController(Controller):
    path = "/"
    tags = ["registers"]
    guards = [require("reader")]

    @get("/sanctions", responses=READ_ERRORS, sync_to_thread=False)
    def sanctions(self, state: State, as_of: AsOf = None, known_at: KnownAt = None) -> SanctionsOut:
        """Sanctions in force on ``as_of``, as known at ``known_at``."""
        day, moment = as_of_date(as_of), known_at_instant(known_at)
        return SanctionsOut(
            as_of=day, known_at=moment, sanctions=state.runtime.projections.sanctions_in_force(day, moment)
        )

    @get("/commitments", responses=READ_ERRORS, sync_to_thread=False)
    def commitments(
        self,
        state: State,
        channel: Annotated[str | None, Parameter(pattern=CHANNEL_PATTERN, max_length=80)] = None,
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> list[Commitment]:
        """Commitments made through channels, as of a day."""
        return state.runtime.projections.commitments(channel, as_of_date(as_of), known_at_instant(known_at))
