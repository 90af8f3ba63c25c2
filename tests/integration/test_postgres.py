"""devstack/postgres.py: the cluster the registry's tests use."""

import psycopg

from devstack import postgres


def test_the_furrow_database_answers_and_a_second_start_changes_nothing(postgres_url: str) -> None:
    assert postgres_url == postgres.address()
    assert postgres.is_ready()
    assert postgres.start() is False
    with psycopg.connect(postgres_url) as connection:
        row = connection.execute("SELECT current_user, current_database()").fetchone()
    assert row == (postgres.USER, postgres.DATABASE)
