"""The failure brake: it slows a client that keeps sending unknown tokens, and forgets clients in time."""

from __future__ import annotations

from diplo.service.auth import FailureBrake


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_brake_holds_a_client_past_its_limit_and_lets_it_go_after_the_window() -> None:
    clock = Clock()
    brake = FailureBrake(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert brake.retry_after("10.0.0.1") is None
        brake.fail("10.0.0.1")
    assert brake.retry_after("10.0.0.1") == 61
    assert brake.retry_after("10.0.0.2") is None  # another client is not held
    clock.now += 61
    assert brake.retry_after("10.0.0.1") is None


def test_the_brake_forgets_clients_whose_failures_have_expired() -> None:
    """A server facing many addresses must not keep one entry per address it ever saw."""
    clock = Clock()
    brake = FailureBrake(limit=3, window=60, clock=clock)
    for n in range(5_000):
        brake.retry_after(f"10.0.{n // 256}.{n % 256}")  # asking creates nothing
        brake.fail(f"10.1.{n // 256}.{n % 256}")
    assert brake.clients() == 5_000
    clock.now += 61
    brake.fail("10.2.0.1")  # the next failure sweeps the expired ones
    assert brake.clients() == 1
