"""What is true: folds of the log into channel states, timelines and registers."""

from projections.measures import Measure, MeasurePeriod
from projections.queries import Commitment, Projections
from projections.replay import Drift, ReplayStats
from projections.sanctions import SanctionInterval
from projections.state import ChannelState, fold
from projections.timeline import Interval

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
