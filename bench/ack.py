"""How fast Slack gets its 200: the product's ack path next to a bolt-only app.

    uv run python bench/ack.py [--sequential 100] [--burst 200] [--rounds 3]

Starts, each in its own process under the same uvicorn configuration (the one
``chatbot.server`` uses: its ``Config``, served inside ``asyncio.run``):

- the product: ``manage.py serve --no-worker`` against a throwaway PostgreSQL cluster (or the
  server ``DATABASE_URL`` names: it gets written to), with ``SLACK_API_URL`` pointing at a
  closed port, so an ack that called Slack's Web API would fail (``--slack-api stub``: a stub
  that answers ``auth.test`` and counts calls, to measure an older checkout given with
  ``--product-root``);
- a bolt-only app: slack-bolt's own ASGI handler (``AsyncSlackRequestHandler``) with an
  ``app_mention`` listener that only acks, signature verification on, and an ``authorize``
  that makes no network call. No database: the floor for a Python Slack endpoint;
- a no-op ASGI app that answers 200 at once: what the client and uvicorn alone cost.

Then the same client measures each: signed ``app_mention`` events (each with a new
``event_id``, so the product stores every one and queues its job), one after another on one
kept-alive connection, then a burst with one connection per request, round after round with
the apps taking turns. It prints p50 and p99 latency over all rounds as a Markdown table, with
the product/bolt ratios, and checks that the product stored every event and its job.

The client is built not to be measured: every request's bytes are built and signed, and every
connection is open and warmed by one request, before the clock starts; a burst's requests are
written to their sockets in a tight loop, and each latency runs from its own request's send to
its response's last byte, read with epoll and parsed by httptools (C). A Python HTTP client
doing the same for 200 requests at once spends enough CPU of its own (on the cores the servers
and PostgreSQL share) to be most of what it measures: with httpx, the no-op app's burst p99
was 260-630 ms.
"""

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httptools
import httpx

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SIGNING_SECRET = "bench-signing-secret"
BOT_USER_ID = "UBOT"

sys.path.insert(0, str(ROOT))


# The apps beside the product, each run in its own process with `bench/ack.py --serve APP`.


def bolt_app() -> Any:
    from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_bolt.authorization import AuthorizeResult

    async def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-bench")

    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        authorize=authorize,
        process_before_response=True,
        request_verification_enabled=True,
    )

    @app.event("app_mention")
    async def on_mention(ack: AsyncAck) -> None:
        await ack()

    return AsyncSlackRequestHandler(app)


async def no_op_app(scope: dict, receive: Any, send: Any) -> None:
    """200 for any request, body read and ignored: what the client and uvicorn alone cost."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def serve(app: str, port: int) -> None:
    """uvicorn as ``chatbot.server`` runs it: its Config, served inside ``asyncio.run``."""
    import uvicorn

    config = uvicorn.Config(
        bolt_app() if app == "bolt" else no_op_app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    asyncio.run(uvicorn.Server(config).serve())


# The benchmark.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def database() -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    from chatbot import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="chatbot-bench-ack-"))
    try:
        with embedded_postgres.running(
            data_dir=root / "data", socket_dir=root / "run", durable=False
        ) as cluster:
            cluster.create_database(name="bench")
            yield cluster.url(dbname="bench")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def process(
    command: list[str], env: dict[str, str], log: Path, *, cwd: Path
) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def body_for(number: int, run: str) -> str:
    ts = f"1700000000.{number:06d}"
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": {
                "type": "app_mention",
                "user": "U123",
                "text": f"<@{BOT_USER_ID}> how do I roll back a deploy? ({number})",
                "ts": ts,
                "channel": "C1",
                "team": "T1",
                "event_ts": ts,
            },
            "type": "event_callback",
            "event_id": f"Ev{run}{number:06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def signed(number: int, run: str, port: int) -> bytes:
    """The whole HTTP/1.1 request, signed: built before any clock starts."""
    from tests.fakes.slack import signed_headers

    body = body_for(number, run).encode()
    headers = {
        "Host": f"127.0.0.1:{port}",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        **signed_headers(body=body.decode(), secret=SIGNING_SECRET),
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST /slack/events HTTP/1.1\r\n{head}\r\n".encode() + body


class Connection:
    """One kept-alive connection and httptools' parser for its responses.

    The client's cost per request is a ``send``, a ``recv`` and a C parser's callbacks, so the
    time measured is the server's (and the network's), not the client's CPU."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.parser = httptools.HttpResponseParser(self)
        self.complete = False

    def on_message_complete(self) -> None:
        self.complete = True

    def send(self, request: bytes) -> float:
        """Send the request (blocking until it is in the kernel's buffer); when that was."""
        self.complete = False
        self.sock.sendall(request)
        return time.perf_counter()

    def received(self, data: bytes) -> bool:
        """Feed what arrived; whether the response is now complete (and a 200)."""
        if not data:
            raise SystemExit("the server closed a kept-alive connection")
        self.parser.feed_data(data)
        if self.complete and self.parser.get_status_code() != 200:
            raise SystemExit(f"the server answered {self.parser.get_status_code()}")
        return self.complete

    def close(self) -> None:
        self.sock.close()


def one_after_another(connection: Connection, requests: list[bytes]) -> list[float]:
    """Each request's latency in ms: from its bytes being sent to its response's last byte."""
    latencies = []
    for request in requests:
        sent = connection.send(request)
        while not connection.received(connection.sock.recv(65536)):
            pass
        latencies.append((time.perf_counter() - sent) * 1000)
    return latencies


def at_once(connections: list[Connection], requests: list[bytes]) -> list[float]:
    """Every request on its own connection, sent in a tight loop; each response timestamped as
    soon as its last byte is read (epoll), against the moment its own request was sent."""
    with selectors.DefaultSelector() as selector:
        for index, connection in enumerate(connections):
            selector.register(connection.sock, selectors.EVENT_READ, index)
        sent = [
            connection.send(request)
            for connection, request in zip(connections, requests, strict=True)
        ]
        latencies = [0.0] * len(requests)
        waiting = len(requests)
        while waiting:
            events = selector.select(timeout=60)
            if not events:
                raise SystemExit(f"{waiting} responses did not arrive within 60 s")
            for key, _ in events:
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                now = time.perf_counter()
                if connections[key.data].received(data):
                    latencies[key.data] = (now - sent[key.data]) * 1000
                    selector.unregister(key.fileobj)
                    waiting -= 1
    return latencies


def wait_until_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(url)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def measure(port: int, run: str, sequential: int, burst: int) -> dict[str, list[float]]:
    """Requests are built and signed, and every connection is open and has carried a request,
    before the clock starts: what is timed is the server answering, not handshakes."""
    single = Connection(port)
    try:
        one_after_another(single, [signed(n, f"{run}w", port) for n in range(burst, burst + 10)])
        requests = [signed(n, f"{run}s", port) for n in range(sequential)]
        one_by_one = one_after_another(single, requests)
    finally:
        single.close()
    connections = [Connection(port) for _ in range(burst)]
    try:
        at_once(connections, [signed(n, f"{run}w", port) for n in range(burst)])
        requests = [signed(n, f"{run}b", port) for n in range(burst)]
        time.sleep(0.5)  # well below uvicorn's keep-alive timeout (5 s)
        all_at_once = at_once(connections, requests)
    finally:
        for connection in connections:
            connection.close()
    return {"sequential": one_by_one, "burst": all_at_once}


def stored(database_url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        events = conn.execute("SELECT count(*) FROM data_slackevent").fetchone()
        jobs = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'answer_slack_event'"
        ).fetchone()
    return (events[0] if events else 0), (jobs[0] if jobs else 0)


class StubSlackApi:
    """Slack's Web API as far as an ack could need it (``auth.test``), counting every call."""

    def __init__(self) -> None:
        import http.server
        import threading

        stub = self
        self.calls = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stub.calls += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps(
                    {"ok": True, "team_id": "T1", "user_id": BOT_USER_ID, "bot_id": "BBOT"}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def run(args: argparse.Namespace, database_url: str, logs: Path) -> int:
    ports = {app: free_port() for app in APPS}
    stub = StubSlackApi() if args.slack_api == "stub" else None
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_APP_TOKEN": "",
        # By default nothing listens there: an ack that called Slack's Web API would fail.
        "SLACK_API_URL": stub.url if stub else f"http://127.0.0.1:{free_port()}/api/",
    }
    manage = [sys.executable, "manage.py"]
    product_root = args.product_root.resolve()
    subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=product_root, env=env, check=True)
    before = stored(database_url)
    this = str(Path(__file__).resolve())
    commands = {
        "product": [*manage, "serve", "--no-worker", "--port", str(ports["product"])],
        "bolt": [sys.executable, this, "--serve", "bolt", "--port", str(ports["bolt"])],
        "no-op": [sys.executable, this, "--serve", "no-op", "--port", str(ports["no-op"])],
    }
    with contextlib.ExitStack() as stack:
        servers = {
            app: stack.enter_context(
                process(commands[app], env, logs / f"{app}.log", cwd=product_root)
            )
            for app in APPS
        }
        results = measure_all(args, {app: (ports[app], servers[app]) for app in APPS})
    after = stored(database_url)
    expected = args.rounds * (args.sequential + 2 * args.burst + 10)
    print_table(results, args)
    events, jobs = after[0] - before[0], after[1] - before[1]
    print(f"\nThe product stored {events} of {expected} events and queued {jobs} jobs.")
    if stub:
        print(f"Requests that reached the stub Slack Web API: {stub.calls}.")
    return 0 if events == jobs == expected else 1


APPS = ("product", "bolt", "no-op")


def measure_all(
    args: argparse.Namespace, servers: dict[str, tuple[int, subprocess.Popen]]
) -> dict[str, dict[str, list[float]]]:
    """Every app, round after round in turns (the machine's noise spreads over all of them),
    each measured with the same client on connections of its own."""
    results: dict[str, dict[str, list[float]]] = {
        app: {"sequential": [], "burst": [], "cpu": []} for app in APPS
    }
    for app, (port, proc) in servers.items():
        path = "/healthz" if app == "product" else "/slack/events"
        wait_until_up(f"http://127.0.0.1:{port}{path}", proc)
    for round_number in range(args.rounds):
        for app in APPS:
            port, proc = servers[app]
            cpu_before = cpu_seconds(proc.pid)
            measured = measure(port, f"{app[0]}{round_number}", args.sequential, args.burst)
            cpu = cpu_seconds(proc.pid) - cpu_before
            requests = sum(len(samples) for samples in measured.values()) + args.burst + 10
            results[app]["cpu"].append(cpu * 1000 / requests)
            for scenario, samples in measured.items():
                results[app][scenario].extend(samples)
    return results


def cpu_seconds(pid: int) -> float:
    """CPU time the server process has used (user + system, all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_table(results: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    print("| scenario | app | p50 ms | p99 ms | mean ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    names = {
        "sequential": f"{args.sequential} one after another",
        "burst": f"{args.burst} at once",
    }
    for app in APPS:
        print(
            f"| all requests: server CPU per request | {app} | "
            f"{statistics.median(results[app]['cpu']):.2f} | | |"
        )
    for scenario, title in names.items():
        for app in APPS:
            samples = results[app][scenario]
            print(
                f"| {title} | {app} | {percentile(samples, 50):.2f} | "
                f"{percentile(samples, 99):.2f} | {statistics.fmean(samples):.2f} |"
            )
        product, bolt = results["product"][scenario], results["bolt"][scenario]
        print(
            f"| {title} | product / bolt | "
            f"{percentile(product, 50) / percentile(bolt, 50):.1f}x | "
            f"{percentile(product, 99) / percentile(bolt, 99):.1f}x | "
            f"{statistics.fmean(product) / statistics.fmean(bolt):.1f}x |"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="measure every app this often")
    parser.add_argument(
        "--slack-api",
        choices=["closed", "stub"],
        default="closed",
        help="SLACK_API_URL: a closed port, or a stub answering auth.test that counts calls",
    )
    parser.add_argument(
        "--product-root", type=Path, default=ROOT, help="another checkout to measure (before/after)"
    )
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this directory")
    parser.add_argument("--serve", choices=["bolt", "no-op"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0
    logs = args.logs or Path(tempfile.mkdtemp(prefix="chatbot-bench-ack-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    with database() as database_url:
        return run(args, database_url, logs)


if __name__ == "__main__":
    sys.exit(main())
