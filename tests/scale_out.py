"""The product scaled out on real parts: PostgreSQL, PgBouncer, two web processes, two workers.

Shared by ``tests/test_scale_out.py`` (a small burst, in the suite) and ``bench/scale_out.py``
(500 questions, beside one ``make run`` process). The processes are started with exactly the
commands ``deploy/`` runs (``WEB_COMMAND``, ``WORKER_COMMAND``; ``tests/test_deploy.py`` checks
the units, the Dockerfile and compose.yaml against them):

- PostgreSQL: the project's local cluster (``chatbot/embedded_postgres.py``) on a Unix socket,
  prepared once (migrated, the guide ingested) and copied per run;
- PgBouncer (Debian's ``pgbouncer``) in transaction mode on a TCP port, the only way in for the
  product, with a server pool of ``pool_size`` connections;
- ``manage.py serve --no-worker`` on two ports, behind a round-robin in the client;
- ``manage.py procrastinate worker`` twice.

Server connections are sampled from ``pg_stat_activity`` (backends of the product's database)
while the questions are answered; answers are counted from what the fake Slack holds
(``tests/process_faults.py``).
"""

import asyncio
import contextlib
import dataclasses
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from chatbot import embedded_postgres
from tests import process_faults
from tests.fakes.slack import signed_headers

ROOT = process_faults.ROOT
PGBOUNCER = "pgbouncer"
# The commands deploy/ runs (systemd units, Dockerfile, compose.yaml), after the interpreter.
WEB_COMMAND = ("manage.py", "serve", "--no-worker")
WORKER_COMMAND = ("manage.py", "procrastinate", "worker")
METRICS_TOKEN = "scale-out-metrics-token"


def find_pgbouncer() -> str | None:
    return shutil.which(PGBOUNCER) or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(path).exists()),
        None,
    )


def _cluster_password(cluster: embedded_postgres.Cluster) -> str:
    line = cluster.passfile.read_text().strip().splitlines()[0]
    return line.split(":", 4)[4]


class Bouncer:
    """PgBouncer in transaction mode in front of a cluster's socket; foreground, own session."""

    def __init__(self, *, work: Path, cluster: embedded_postgres.Cluster, pool_size: int) -> None:
        self.work = work
        self.cluster = cluster
        self.pool_size = pool_size
        self.port = process_faults.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        # Clients are trusted on the loopback port; PgBouncer holds the server's password.
        return f"postgresql://postgres:unused@127.0.0.1:{self.port}/chatbot"

    def start(self) -> None:
        binary = find_pgbouncer()
        assert binary, "pgbouncer is not installed"
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "userlist.txt").write_text('"postgres" ""\n')
        (self.work / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"chatbot = host={self.cluster.socket_dir} dbname=chatbot user=postgres"
            f" password={_cluster_password(self.cluster)}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.work / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\n"
            "reserve_pool_size = 0\n"
            "max_client_conn = 2000\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
        command = [binary, str(self.work / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # PgBouncer refuses root, like PostgreSQL: it runs as the cluster's service user.
            entry = pwd.getpwnam(embedded_postgres.SERVICE_USER)
            for path in (self.work, *self.work.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            command = ["runuser", "-u", embedded_postgres.SERVICE_USER, "--", *command]
        with (self.work / "output.log").open("ab") as output:
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, cwd="/"
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(psycopg.Error),
                psycopg.connect(self.url, autocommit=True, connect_timeout=2) as conn,
            ):
                conn.execute("SELECT 1")
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"pgbouncer did not start:\n{self.output()[-3000:]}")

    def output(self) -> str:
        path = self.work / "output.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Process:
    """One of the product's processes (``python manage.py ...``), output in ``log``."""

    def __init__(self, *, command: tuple[str, ...], env: dict[str, str], log: Path) -> None:
        self.command, self.env, self.log = command, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, *self.command],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill()


def scaled_env(
    *, data_dir: Path, database_url: str, port: int, slack_url: str, model_url: str
) -> dict[str, str]:
    env = process_faults.product_env(
        data_dir=data_dir, port=port, slack_url=slack_url, model_url=model_url
    )
    env.update(
        DATABASE_URL=database_url,
        DATABASE_PGBOUNCER="true",
        DJANGO_SECRET_KEY="scale-out-secret-key-" + "x" * 40,
        HOST="127.0.0.1",
        CHATBOT_METRICS_TOKEN=METRICS_TOKEN,
        # One directory for the host's processes: any web process's /metrics sums them all.
        PROMETHEUS_MULTIPROC_DIR=str(data_dir.parent / "metrics"),
    )
    return env


class ConnectionSampler:
    """Peak of the product database's server connections, sampled every ``every`` seconds."""

    def __init__(self, *, cluster: embedded_postgres.Cluster, every: float = 0.1) -> None:
        self.url = cluster.url(dbname="postgres")
        self.every = every
        self.peak = 0
        self.samples: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def count(self) -> int:
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = 'chatbot' AND backend_type = 'client backend'"
            ).fetchone()
        return int(row[0]) if row else 0

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(psycopg.Error):
                value = await asyncio.to_thread(self.count)
                self.samples.append(value)
                self.peak = max(self.peak, value)
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def worker_ids(*, cluster: embedded_postgres.Cluster) -> list[int]:
    with psycopg.connect(cluster.url(dbname="chatbot"), autocommit=True) as conn:
        rows = conn.execute("SELECT id FROM procrastinate_workers ORDER BY id").fetchall()
    return [int(row[0]) for row in rows]


def answering_jobs(*, cluster: embedded_postgres.Cluster, worker_id: int) -> list[int]:
    """The answering jobs a worker is running now."""
    with psycopg.connect(cluster.url(dbname="chatbot"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = %s"
            " AND task_name <> 'retry_stalled_jobs'",
            [worker_id],
        ).fetchall()
    return [int(row[0]) for row in rows]


def job_statuses(*, cluster: embedded_postgres.Cluster, ids: list[int]) -> dict[str, int]:
    with psycopg.connect(cluster.url(dbname="chatbot"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT status::text, count(*) FROM procrastinate_jobs WHERE id = ANY(%s)"
            " GROUP BY status",
            [ids],
        ).fetchall()
    return {str(status): int(count) for status, count in rows}


@dataclasses.dataclass
class ScaledOut:
    """The running layout: start() in order, stop() in reverse."""

    work: Path
    template: Path
    slack_url: str
    model_url: str
    pool_size: int
    web_count: int = 2
    worker_count: int = 2

    def __post_init__(self) -> None:
        self.data_dir = self.work / "data"
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "metrics").mkdir(exist_ok=True)
        process_faults.copy_data_dir(self.template, self.data_dir)
        self.cluster = process_faults.cluster(self.data_dir)
        self.bouncer = Bouncer(
            work=self.work / "pgbouncer", cluster=self.cluster, pool_size=self.pool_size
        )
        self.webs: list[Process] = []
        self.workers: list[Process] = []
        self.worker_ids: list[int] = []

    def env(self, *, port: int) -> dict[str, str]:
        return scaled_env(
            data_dir=self.data_dir,
            database_url=self.bouncer.url,
            port=port,
            slack_url=self.slack_url,
            model_url=self.model_url,
        )

    async def start(self, client: httpx.AsyncClient) -> None:
        await asyncio.to_thread(self.cluster.start)
        await asyncio.to_thread(self.bouncer.start)
        for number in range(self.web_count):
            port = process_faults.free_port()
            web = Process(
                command=(*WEB_COMMAND, "--port", str(port)),
                env=self.env(port=port),
                log=self.work / f"web{number}.log",
            )
            web.start()
            self.webs.append(web)
        for number in range(self.worker_count):
            # One at a time, so that each worker's id in procrastinate_workers is known.
            worker = Process(
                command=WORKER_COMMAND, env=self.env(port=0), log=self.work / f"worker{number}.log"
            )
            worker.start()
            self.workers.append(worker)
            self.worker_ids.append(await self._new_worker_id(worker))
        for web in self.webs:
            await self._wait_healthy(client, web)

    async def _new_worker_id(self, worker: Process, seconds: float = 60) -> int:
        known = set(self.worker_ids)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert worker.process is not None
            if worker.process.poll() is not None:
                raise RuntimeError(f"a worker exited while starting:\n{worker.output()[-3000:]}")
            fresh = [i for i in worker_ids(cluster=self.cluster) if i not in known]
            if fresh:
                return fresh[-1]
            await asyncio.sleep(0.2)
        raise RuntimeError(f"a worker did not register in {seconds:.0f} s:\n{worker.output()}")

    async def _wait_healthy(self, client: httpx.AsyncClient, web: Process) -> None:
        base = f"http://127.0.0.1:{web.env['PORT']}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert web.process is not None
            if web.process.poll() is not None:
                raise RuntimeError(f"a web process exited:\n{web.output()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"a web process was not healthy in 60 s:\n{web.output()[-3000:]}")

    def busiest_worker(self) -> tuple[int, list[int]]:
        """The worker running the most answers now (its index), and those jobs' ids."""
        running = [answering_jobs(cluster=self.cluster, worker_id=i) for i in self.worker_ids]
        index = max(range(len(running)), key=lambda n: len(running[n]))
        return index, running[index]

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{web.env['PORT']}" for web in self.webs]

    def outputs(self) -> str:
        parts = [f"--- {p.log.name}\n{p.output()[-2000:]}" for p in (*self.webs, *self.workers)]
        return "\n".join([*parts, f"--- pgbouncer\n{self.bouncer.output()[-1000:]}"])

    def stop(self) -> None:
        for process in (*self.webs, *self.workers):
            with contextlib.suppress(Exception):
                process.stop()
        self.bouncer.stop()
        with contextlib.suppress(embedded_postgres.PostgresFailed):
            self.cluster.stop()


async def ask_round_robin(
    client: httpx.AsyncClient, *, bases: list[str], count: int, run: str
) -> dict[str, list[int]]:
    """Post ``count`` signed mentions at once, each to the next web process in turn; returns
    the ack statuses by web process."""
    targets = itertools.cycle(bases)
    plan = [(number, next(targets)) for number in range(1, count + 1)]

    async def post(number: int, base: str) -> tuple[str, int]:
        body = process_faults.mention_body(number=number, run=run)
        headers = signed_headers(body=body, secret=process_faults.SIGNING_SECRET)
        headers["Content-Type"] = "application/json"
        response = await client.post(f"{base}/slack/events", content=body, headers=headers)
        return base, response.status_code

    acks: dict[str, list[int]] = {base: [] for base in bases}
    for base, status in await asyncio.gather(*(post(n, b) for n, b in plan)):
        acks[base].append(status)
    return acks


async def scrape(client: httpx.AsyncClient, *, base: str) -> dict[str, float]:
    """``/metrics`` of one web process, as {'name{label="value",...}': value}."""
    response = await client.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    response.raise_for_status()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples
