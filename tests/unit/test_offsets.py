"""The commit rules that bring a consumer back by itself after an outage or a rebalance."""

from libs.offsets import CommitLedger

P0 = ("raw", 0)
P1 = ("raw", 1)


def test_a_commit_that_kafka_did_not_take_stays_owed_until_it_does() -> None:
    ledger = CommitLedger()
    ledger.assigned({P0: 10})
    ledger.owe({P0: 15})
    assert ledger.due() == {P0: 15}
    # The commit failed: nothing acknowledged, so it is due again.
    assert ledger.due() == {P0: 15}
    ledger.acknowledged({P0: 15})
    assert ledger.due() == {}
    assert ledger.committed() == {P0: 15}


def test_commits_never_go_backwards() -> None:
    ledger = CommitLedger()
    ledger.assigned({P0: 10})
    ledger.owe({P0: 9})
    assert ledger.due() == {}
    ledger.owe({P0: 20})
    ledger.acknowledged({P0: 20})
    # Records delivered again after a rebalance complete later than newer ones.
    ledger.owe({P0: 18})
    assert ledger.due() == {}


def test_records_read_again_after_a_refused_commit_are_owed_again() -> None:
    ledger = CommitLedger()
    ledger.assigned({P0: 10})
    ledger.owe({P0: 15})
    # The session timed out while Kafka was away: the partition is lost, then assigned here
    # again with the group's offset, and its records come again.
    ledger.revoked([P0])
    assert ledger.due() == {}
    ledger.assigned({P0: 10})
    ledger.owe({P0: 15})
    assert ledger.due() == {P0: 15}


def test_partitions_not_assigned_here_owe_nothing() -> None:
    ledger = CommitLedger()
    ledger.assigned({P0: -1})
    ledger.owe({P0: 3, P1: 7})
    assert ledger.due() == {P0: 3}
    ledger.acknowledged({P1: 7})
    assert ledger.committed() == {P0: -1}


def test_an_acknowledgement_of_less_than_owed_leaves_the_rest_owed() -> None:
    ledger = CommitLedger()
    ledger.assigned({P0: 0, P1: 0})
    ledger.owe({P0: 5, P1: 5})
    ledger.acknowledged({P0: 5})
    ledger.owe({P0: 8})
    assert ledger.due() == {P0: 8, P1: 5}
    ledger.acknowledged({P0: 6, P1: 5})
    assert ledger.due() == {P0: 8}
