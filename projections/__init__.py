"""What is true: folds of the log into channel states, timelines and registers."""

from diplo.projections.measures import Measure, MeasurePeriod
from diplo.projections.queries import Commitment, Projections
from diplo.projections.replay import Drift, ReplayStats
from diplo.projections.sanctions import SanctionInterval
from diplo.projections.state import ChannelState, fold
from diplo.projections.timeline import Interval

__all__ = [
    "ChannelState",
    "Commitment",
    "Drift",
    "Interval",
    "Measure",
    "MeasurePeriod",
    "Projections",
    "ReplayStats",
    "SanctionInterval",
    "fold",
]
