"""Faults on real processes: the database goes away under daphne's connection pool (and, for a
host that answers nothing, without it).

A client keeps calling the API (several at once, as stations do) while every backend of the
app is terminated again and again, or while the database refuses connections. Every request
is answered within 5 s, either served or with the retryable 503 (`service_unavailable`); none
hangs for the pool's wait, and once the database is back, requests are served again within
5 s: the pool reconnects by itself, daphne needs no restart (docs/deploy.md §3).
"""

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from tests import factories
from tests.conftest import Cast
from tests.e2e import servers
from tests.e2e.servers import Daphne
from tests.telehealth.pg_faults import (
    admin_connection,
    allow_connections,
    backends,
    terminate_backends,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

APP_NAME = "telehealth-fault-pool"
ANSWER_WITHIN = 5.0
CLIENTS = 2
POOL_SIZE = 8
MAX_REQUESTS = 2000  # per client: the loop is bounded even if the stop never comes


@dataclass
class Answer:
    sent: float
    answered: float
    status: int
    code: str | None

    @property
    def took(self) -> float:
        return self.answered - self.sent


@dataclass
class Callers:
    """CLIENTS threads, each sending GET /api/v1/me/ (a token lookup and a query) as soon as
    its previous request is answered, until stopped."""

    server: Daphne
    token: str
    clients: int = CLIENTS
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def call(self) -> Answer:
        request = urllib.request.Request(
            f"{self.server.url}/api/v1/me/", headers={"Authorization": f"Token {self.token}"}
        )
        sent = time.monotonic()
        try:
            # Twice the bound: a request that takes longer is recorded, not cut off.
            with urllib.request.urlopen(request, timeout=2 * ANSWER_WITHIN) as response:
                response.read()
                return Answer(sent, time.monotonic(), response.status, None)
        except urllib.error.HTTPError as error:
            body = json.loads(error.read())
            return Answer(sent, time.monotonic(), error.code, body.get("code"))
        except (urllib.error.URLError, OSError):
            return Answer(sent, time.monotonic(), 0, "no_answer")

    def loop(self) -> None:
        for _ in range(MAX_REQUESTS):
            if self.stop.is_set():
                return
            answer = self.call()
            with self.lock:
                self.answers.append(answer)

    def __enter__(self) -> "Callers":
        self.threads = [threading.Thread(target=self.loop) for _ in range(self.clients)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def finish(self) -> None:
        """Stop, and let every request in flight get its answer (or its client timeout)."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=3 * ANSWER_WITHIN)
        assert not any(thread.is_alive() for thread in self.threads)

    def answered_since(self, moment: float) -> list[Answer]:
        """Every answer that came after `moment`, including requests sent before it."""
        with self.lock:
            return [a for a in self.answers if a.answered >= moment]

    def since(self, moment: float) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.sent >= moment]

    def wait_for(self, condition: Callable[[], bool], within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise TimeoutError(f"not met within {within} s")

    def served_since(self, moment: float, count: int = 1) -> bool:
        return sum(a.status == 200 for a in self.since(moment)) >= count


def pause_until(moment: float) -> None:
    """The fault's own schedule (not a wait for an outcome)."""
    threading.Event().wait(max(0.0, moment - time.monotonic()))


@pytest.fixture
def pooled_server(start_daphne: Callable[..., Daphne]) -> Daphne:
    return start_daphne(
        "pool-fault",
        DATABASE_URL=f"{servers.test_database_url()}?application_name={APP_NAME}",
        DATABASE_POOL_MAX_SIZE=str(POOL_SIZE),
    )


@pytest.fixture
def callers(pooled_server: Daphne, cast: Cast) -> Iterator[Callers]:
    token = factories.make_api_token(cast.nurse)
    with admin_connection() as admin, Callers(pooled_server, token, clients=3 * POOL_SIZE) as burst:
        # A busy moment before the fault leaves the pool at its largest, every connection
        # idle in it when the backends are terminated.
        burst.wait_for(lambda: backends(admin, APP_NAME) >= POOL_SIZE, within=30)
    with Callers(pooled_server, token) as running:
        running.wait_for(lambda: running.served_since(0, CLIENTS), within=ANSWER_WITHIN)
        yield running


READ_ANSWERS = {(200, None), (503, "service_unavailable")}


def assert_every_answer_in_time(answers: list[Answer]) -> None:
    late = [a for a in answers if a.took > ANSWER_WITHIN]
    assert not late, f"{len(late)} of {len(answers)} took more than {ANSWER_WITHIN} s"
    unexpected = {(a.status, a.code) for a in answers if (a.status, a.code) not in READ_ANSWERS}
    assert not unexpected


def test_requests_are_answered_while_the_backends_are_terminated_and_served_after(
    callers: Callers,
) -> None:
    start = time.monotonic()
    killed = 0
    with admin_connection() as admin:
        # Eight rounds, one every 150 ms: what a failover, or an operator's restart done
        # twice, does to the pool, including to the connections it has just made again.
        for round_ in range(8):
            pause_until(start + 0.15 * round_)
            killed += terminate_backends(admin, APP_NAME)
        last = time.monotonic()
    # Wait longer than the bound, so that a failure says by how much it was missed.
    callers.wait_for(lambda: callers.served_since(last, CLIENTS), within=6 * ANSWER_WITHIN)
    callers.finish()
    answers = callers.answered_since(start)
    recovered = min(a.answered for a in callers.since(last) if a.status == 200) - last
    print(
        f"killed {killed} backends in {last - start:.2f} s; {len(answers)} requests, "
        f"{sum(a.status == 503 for a in answers)} x 503, "
        f"slowest {max(a.took for a in answers):.2f} s, "
        f"served again {recovered:.2f} s after the last kill"
    )
    assert killed >= 8
    assert_every_answer_in_time(answers)
    assert recovered <= ANSWER_WITHIN


def test_requests_are_answered_while_the_database_refuses_and_served_once_it_is_back(
    callers: Callers,
) -> None:
    with admin_connection() as admin:
        start = time.monotonic()
        try:
            allow_connections(admin, False)
            killed = terminate_backends(admin, APP_NAME)
            # Down long enough that every pooled connection and the pool's first attempts
            # to reconnect failed, and each client was refused at least twice.
            callers.wait_for(
                lambda: (
                    time.monotonic() - start > 4
                    and sum(a.status == 503 for a in callers.since(start)) >= 2 * CLIENTS
                ),
                within=6 * ANSWER_WITHIN,
            )
        finally:
            allow_connections(admin, True)
        back = time.monotonic()
    callers.wait_for(lambda: callers.served_since(back, CLIENTS), within=6 * ANSWER_WITHIN)
    callers.finish()
    answers = callers.answered_since(start)
    down = [a for a in answers if a.answered < back]
    recovered = min(a.answered for a in callers.since(back) if a.status == 200) - back
    print(
        f"refused for {back - start:.2f} s; {len(down)} requests meanwhile, "
        f"{sum(a.status == 503 for a in down)} x 503, "
        f"slowest {max(a.took for a in answers):.2f} s, served again {recovered:.2f} s after"
    )
    assert killed >= 1
    assert_every_answer_in_time(answers)
    assert {a.status for a in down} >= {503}
    assert recovered <= ANSWER_WITHIN


@pytest.fixture
def silent_host() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a database host that is
    up on the network but not answering (hung, or its replies dropped)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    acceptor = threading.Thread(target=accept)
    acceptor.start()
    yield listener.getsockname()[1]
    stop.set()
    acceptor.join(timeout=5)
    for conn in held:
        conn.close()
    listener.close()


@pytest.mark.parametrize("pool_size", ["4", "0"], ids=["pool", "no-pool"])
def test_with_a_database_host_that_answers_nothing_every_request_is_answered_in_time(
    start_daphne: Callable[..., Daphne], silent_host: int, pool_size: str
) -> None:
    server = start_daphne(
        f"pool-silent-{pool_size}",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_host}/telehealth",
        DATABASE_POOL_MAX_SIZE=pool_size,
    )
    with Callers(server, "no-such-token") as running:
        running.wait_for(lambda: len(running.since(0)) >= 3 * CLIENTS, within=6 * ANSWER_WITHIN)
    answers = running.since(0)
    print(f"{pool_size}: {len(answers)} answers, slowest {max(a.took for a in answers):.2f} s")
    assert_every_answer_in_time(answers)
    assert {a.code for a in answers} == {"service_unavailable"}
