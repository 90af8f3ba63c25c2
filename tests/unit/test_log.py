"""Repeated client-library messages: the first, then a count, never hundreds of lines."""

import logging

from libs.log import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def log_record(message: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("librdkafka", level, __file__, 1, message, args, None)


REFUSED = "FAIL [thrd:%s]: Connect to ipv4#127.0.0.1:%d failed: Connection refused (after %dms)"


def test_repeats_within_the_window_are_held_back_and_counted_on_the_next_one_let_through() -> None:
    clock = Clock()
    repeats = RepeatFilter(window_s=10.0, clock=clock)
    let_through = []
    for tenth in range(300):
        clock.now = tenth / 10
        record = log_record(REFUSED, "main", 9092, tenth % 7)
        if repeats.filter(record):
            let_through.append((clock.now, getattr(record, "repeats_held_back", 0)))
    assert let_through == [(0.0, 0), (10.0, 99), (20.0, 99)]


def test_messages_of_other_kinds_are_not_held_back_by_each_other() -> None:
    repeats = RepeatFilter(window_s=10.0, clock=Clock())
    assert repeats.filter(log_record(REFUSED, "main", 9092, 0))
    assert repeats.filter(log_record("Disconnected: connection closed by peer"))
    assert repeats.filter(log_record(REFUSED, "main", 9092, 0, level=logging.WARNING))
    assert not repeats.filter(log_record(REFUSED, "main", 9093, 5))


def test_the_message_itself_is_left_as_it_was() -> None:
    clock = Clock()
    repeats = RepeatFilter(window_s=10.0, clock=clock)
    repeats.filter(log_record(REFUSED, "main", 9092, 0))
    repeats.filter(log_record(REFUSED, "main", 9092, 1))
    clock.now = 11.0
    record = log_record(REFUSED, "main", 9092, 2)
    assert repeats.filter(record)
    assert record.getMessage() == (
        "FAIL [thrd:main]: Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after 2ms)"
    )
    assert record.repeats_held_back == 1
