"""Whether a consumer is moving: what its `/health` says, and when it should give up and exit.

A consumer may sit still for good reasons: nothing to read, or a downstream store that is down
and holds up its reading. It is stalled when its group has records waiting and it has neither
read nor committed any for `stall_after_s`. It is stuck when it keeps asking for records, with
Kafka answering, and gets none for `exit_after_s` while records wait in partitions assigned to
it, or while it has no partition at all and its group has records waiting (it never joined its
group again), or while its own requests fail and a new client's are answered: then only a new
consumer helps, and saying so beats sitting silent. Pure: the
caller passes the time and the measurements.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lag:
    """Records not committed yet: of the group's whole topics, and of the partitions assigned
    to this member; and how many partitions are assigned to it."""

    group: int
    assigned: int
    partitions: int = 0


class StallWatch:
    def __init__(self, *, stall_after_s: float, exit_after_s: float, poll_gap_s: float) -> None:
        self._stall_after_s = stall_after_s
        self._exit_after_s = exit_after_s
        # A poll ended less than this long ago means the consumer is still asking for records.
        self._poll_gap_s = poll_gap_s
        self._last_progress = 0.0
        self._last_poll = float("-inf")
        self._lag: Lag | None = None
        self._unreachable_since: float | None = None
        self._unreachable_reason = ""
        # What does not answer this consumer while Kafka answers, and why: its group's
        # coordinator, or its own client.
        self._unanswered: tuple[str, str] | None = None
        self._stuck_since: float | None = None

    def started(self, now: float) -> None:
        """The consumer starts, or a new one takes over: time to move from now on."""
        self._last_progress = now
        self._stuck_since = None
        self._lag = None

    def polled(self, now: float, *, records: int) -> None:
        self._last_poll = now
        if records:
            self.progressed(now)

    def progressed(self, now: float) -> None:
        """A record read or a commit acknowledged."""
        self._last_progress = now
        self._stuck_since = None
        # Measured before: what it said waits may be what just moved.
        self._lag = None

    def measured(self, now: float, lag: Lag) -> None:
        self._lag = lag
        self._unreachable_since = None
        self._unanswered = None
        # Records wait in its own partitions, or it has none while the group has records
        # waiting (it never joined again after an outage).
        self._asking(now, lag.assigned > 0 or (lag.partitions == 0 and lag.group > 0))

    def coordinator_missing(self, now: float, reason: str) -> None:
        """Kafka answers, but not this consumer's group: it has lost its coordinator, which a
        broker back from a restart provides within seconds."""
        self._unanswered_while_kafka_answers(now, "no group coordinator for this consumer", reason)

    def client_failing(self, now: float, reason: str) -> None:
        """Kafka answers a new client, but this consumer's own requests fail: after a broker's
        restarts its client may never connect again, nor join its group."""
        self._unanswered_while_kafka_answers(now, "this consumer's own requests fail", reason)

    def _unanswered_while_kafka_answers(self, now: float, what: str, reason: str) -> None:
        self._lag = None
        self._unreachable_since = None
        self._unanswered = (what, reason)
        self._asking(now, True)

    def _asking(self, now: float, left_waiting: bool) -> None:
        asking_in_vain = (
            left_waiting
            and now - self._last_poll < self._poll_gap_s
            and now - self._last_progress >= self._stall_after_s
        )
        if not asking_in_vain:
            self._stuck_since = None
        elif self._stuck_since is None:
            self._stuck_since = now

    def unreachable(self, now: float, reason: str) -> None:
        """The lag could not be measured: Kafka did not answer."""
        if self._unreachable_since is None:
            self._unreachable_since = now
        self._unreachable_reason = reason
        self._unanswered = None
        # Nothing can be read from a broker that is away: waiting for it is not being stuck.
        self._stuck_since = None

    def problem(self, now: float) -> str | None:
        """Why the consumer is unhealthy, or None while it is healthy."""
        still_s = now - self._last_progress
        if still_s < self._stall_after_s:
            return None
        if self._unreachable_since is not None:
            away_s = now - self._unreachable_since
            return f"Kafka has not answered for {away_s:.0f} s: {self._unreachable_reason}"
        if self._unanswered is not None:
            return f"nothing read or committed for {still_s:.0f} s: {self._unanswered[1]}"
        if self._lag is not None and self._lag.group > 0:
            return (
                f"nothing read or committed for {still_s:.0f} s while the group has "
                f"{self._lag.group} records waiting"
            )
        return None

    def hopeless(self, now: float) -> str | None:
        """Why the consumer should exit, or None while it may still recover by itself."""
        if self._stuck_since is None or now - self._stuck_since < self._exit_after_s:
            return None
        still_s = now - self._last_progress
        if self._unanswered is not None:
            what, reason = self._unanswered
            return f"{what} and nothing read for {still_s:.0f} s while Kafka answers: {reason}"
        assert self._lag is not None
        if self._lag.partitions == 0:
            return (
                f"no partition assigned and nothing read for {still_s:.0f} s while the group "
                f"has {self._lag.group} records waiting and Kafka answers"
            )
        return (
            f"no record delivered for {still_s:.0f} s from partitions assigned here with "
            f"{self._lag.assigned} records waiting, while Kafka answers"
        )
