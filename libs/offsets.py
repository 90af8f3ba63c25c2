"""What a consumer still owes its group: the offsets it wants committed, per partition, and the
last ones Kafka acknowledged. Pure bookkeeping; `libs.kafka.KafkaSource` does the talking.

The rules, which make a consumer come back by itself from a broker outage or a rebalance:
- A commit that fails stays owed and is tried again, so the last records before an outage are
  committed once Kafka is back, even if no record ever follows them.
- An offset is owed only for a partition assigned here, and never below what the group had
  committed when the partition was assigned: records delivered again after a rebalance are
  committed again, and commits never go backwards.
- A revoked partition owes nothing: its new owner reads again from the group's offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Partition = tuple[str, int]


class CommitLedger:
    def __init__(self) -> None:
        # Per partition assigned here (and only those), the next offset to read as the group
        # has it (acknowledged by Kafka).
        self._committed: dict[Partition, int] = {}
        self._owed: dict[Partition, int] = {}

    def assigned(self, partitions: Mapping[Partition, int]) -> None:
        """Partitions now assigned here, each with the group's committed offset (-1: none)."""
        self._committed.update(partitions)

    def revoked(self, partitions: Iterable[Partition]) -> None:
        for partition in partitions:
            self._committed.pop(partition, None)
            self._owed.pop(partition, None)

    def owe(self, offsets: Mapping[Partition, int]) -> None:
        """Records before these offsets are done; offsets of partitions not assigned are
        dropped (their records are read again by whoever owns them now)."""
        for partition, offset in offsets.items():
            committed = self._committed.get(partition)
            if committed is not None and offset > max(self._owed.get(partition, -1), committed):
                self._owed[partition] = offset

    def due(self) -> dict[Partition, int]:
        """The offsets to commit now."""
        return dict(self._owed)

    def acknowledged(self, offsets: Mapping[Partition, int]) -> None:
        """Kafka has committed these offsets."""
        for partition, offset in offsets.items():
            committed = self._committed.get(partition)
            if committed is None:
                continue
            self._committed[partition] = max(committed, offset)
            if self._owed.get(partition, -1) <= offset:
                self._owed.pop(partition, None)

    def committed(self) -> dict[Partition, int]:
        """The group's committed offsets of the partitions assigned here, as far as known."""
        return dict(self._committed)
