"""A connection is out of the pool only while a query or a transaction runs.

The backend (chatbot/database_backend) gives it back by itself: no use-case code releases by
hand. These tests pin down when it is held (atomic blocks, open cursors, hand-managed
transactions) and when it is not (between queries), with the pool's own statistics and with
what PostgreSQL sees.
"""

import threading
import time

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction
from procrastinate.contrib.django.utils import connector_params

from chatbot.database_backend.base import DatabaseWrapper
from data import models

pytestmark = pytest.mark.django_db(transaction=True)


def _checked_out() -> int:
    stats = connection.pool.get_stats()  # type: ignore[attr-defined]
    return stats["pool_size"] - stats["pool_available"]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _outside(query: str, *params: object) -> list[tuple]:
    """Ask PostgreSQL on a connection of our own, outside Django and its pool."""
    with psycopg.connect(**connector_params(), autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def _make_users(count: int) -> None:
    model = get_user_model()
    model.objects.bulk_create(model(username=f"user-{n}") for n in range(count))


def test_a_query_outside_a_transaction_gives_its_connection_back():
    get_user_model().objects.count()

    assert connection.connection is None
    assert _checked_out() == 0


def test_an_atomic_block_holds_one_connection_until_it_ends():
    with transaction.atomic():
        first = _backend_pid()
        get_user_model().objects.count()
        assert connection.connection is not None
        assert _checked_out() == 1
        assert _backend_pid() == first

    assert connection.connection is None
    assert _checked_out() == 0


def test_nested_atomic_blocks_hold_the_connection_until_the_outermost_ends():
    with transaction.atomic():
        outer = _backend_pid()
        with transaction.atomic():
            assert _backend_pid() == outer
        # The inner block (a savepoint) ended; the transaction goes on.
        assert connection.connection is not None
        with transaction.atomic():
            get_user_model().objects.create(username="inside")
        assert _backend_pid() == outer

    assert connection.connection is None
    assert get_user_model().objects.filter(username="inside").exists()


def _create_then_fail() -> None:
    with transaction.atomic():
        get_user_model().objects.create(username="rolled-back")
        raise RuntimeError("boom")


def test_a_rolled_back_block_gives_its_connection_back():
    with pytest.raises(RuntimeError):
        _create_then_fail()

    assert connection.connection is None
    assert _checked_out() == 0
    assert not get_user_model().objects.filter(username="rolled-back").exists()


def test_a_hand_managed_transaction_holds_the_connection_until_autocommit_is_back():
    transaction.set_autocommit(False)
    try:
        get_user_model().objects.create(username="manual")
        assert connection.connection is not None
        transaction.commit()
        assert connection.connection is not None  # autocommit is still off
    finally:
        transaction.set_autocommit(True)

    assert connection.connection is None
    assert get_user_model().objects.filter(username="manual").exists()


def test_an_open_cursor_holds_the_connection_until_it_closes():
    cursor = connection.cursor()
    cursor.execute("SELECT 1")
    assert connection.connection is not None
    assert _checked_out() == 1

    cursor.close()

    assert connection.connection is None
    assert _checked_out() == 0


def test_an_iterator_reads_through_a_server_side_cursor_on_one_connection():
    _make_users(30)
    rows = get_user_model().objects.order_by("pk").iterator(chunk_size=10)

    first = next(rows)
    # A query made while the iterator is being read runs on the same connection, which holds
    # the iterator's named cursor; closing this second cursor does not give the connection back.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_cursors")
        open_cursors = [name for (name,) in cursor.fetchall()]
    assert any(name.startswith("_django_curs_") for name in open_cursors), open_cursors
    assert connection.connection is not None
    rest = list(rows)

    assert [first.username, *(user.username for user in rest)] == [f"user-{n}" for n in range(30)]
    # ...and given back once the iterator is exhausted.
    assert connection.connection is None
    assert _checked_out() == 0


def test_a_named_cursor_holds_the_connection_until_it_closes():
    _make_users(5)
    cursor = connection.chunked_cursor()
    cursor.execute("SELECT username FROM auth_user ORDER BY id")
    assert cursor.fetchmany(2) == [("user-0",), ("user-1",)]
    assert connection.connection is not None
    assert cursor.fetchmany(10) == [("user-2",), ("user-3",), ("user-4",)]

    cursor.close()

    assert connection.connection is None


def test_a_raw_query_gives_its_connection_back_once_read():
    _make_users(3)

    names = [user.username for user in get_user_model().objects.raw("SELECT * FROM auth_user")]

    assert sorted(names) == ["user-0", "user-1", "user-2"]
    assert connection.connection is None
    assert _checked_out() == 0


def test_select_for_update_keeps_its_lock_and_connection_for_the_whole_block():
    user = get_user_model().objects.create(username="locked")
    with transaction.atomic():
        get_user_model().objects.select_for_update().get(pk=user.pk)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _outside("SELECT id FROM auth_user WHERE id = %s FOR UPDATE NOWAIT", user.pk)
        assert connection.connection is not None

    assert _outside("SELECT id FROM auth_user WHERE id = %s FOR UPDATE NOWAIT", user.pk) == [
        (user.pk,)
    ]
    assert connection.connection is None


def test_without_a_client_pool_an_idle_connection_is_closed():
    """Behind PgBouncer (DATABASE_PGBOUNCER) there is no client pool: idle means disconnected,
    and PgBouncer keeps the server connection for the next client."""
    settings_dict = {
        **connection.settings_dict,
        "OPTIONS": {k: v for k, v in connection.settings_dict["OPTIONS"].items() if k != "pool"},
    }
    unpooled = DatabaseWrapper(settings_dict)  # not registered in `connections`
    try:
        with unpooled.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]

        assert unpooled.pool is None
        assert unpooled.connection is None
        deadline = time.monotonic() + 5
        while _outside("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid) != [(0,)]:
            assert time.monotonic() < deadline, "the server session outlived its client"
            time.sleep(0.05)
    finally:
        unpooled.close()


def test_a_connection_that_breaks_mid_query_is_not_left_checked_out():
    pids: list[int] = []
    errors: list[BaseException] = []

    def slow_query() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
                cursor.execute("SELECT pg_sleep(30)")
        except OperationalError as error:
            errors.append(error)
        finally:
            pids.append(-1 if connection.connection is None else 0)

    worker = threading.Thread(target=slow_query)
    worker.start()
    deadline = time.monotonic() + 10
    while not pids:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    _outside("SELECT pg_terminate_backend(%s)", pids[0])
    worker.join(timeout=10)

    assert errors, "the query should have failed with the connection"
    assert pids[1] == -1  # the broken connection is no longer held by its wrapper
    deadline = time.monotonic() + 5
    while _checked_out():  # the pool discards it and opens a replacement in the background
        assert time.monotonic() < deadline, connection.pool.get_stats()  # type: ignore[attr-defined]
        time.sleep(0.05)
    # The pool replaced it: the next query works, on another server process.
    assert models.Question.objects.count() == 0
    assert _backend_pid() != pids[0]


def test_an_iterator_abandoned_on_another_thread_leaves_the_connection_to_its_owner():
    _make_users(30)
    rows = get_user_model().objects.order_by("pk").iterator(chunk_size=10)
    next(rows)
    pid = connection.connection.info.backend_pid
    # The half-read iterator is dropped on another thread, which closes its cursor there.
    elsewhere = threading.Thread(target=rows.close)  # type: ignore[attr-defined]
    elsewhere.start()
    elsewhere.join()

    # That thread did not take the connection from under its owner...
    assert connection.connection is not None
    assert connection.connection.info.backend_pid == pid
    # ...which gives it back with its next query.
    assert get_user_model().objects.count() == 30
    assert connection.connection is None
    assert _checked_out() == 0
