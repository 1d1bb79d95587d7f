"""Run the job worker in a test until the queue is empty, as `make run` runs it."""

from procrastinate.contrib.django import app as job_app


async def run_worker_until_idle(*, concurrency: int = 4) -> None:
    connector = job_app.connector.get_worker_connector()  # type: ignore[attr-defined]
    with job_app.replace_connector(connector):
        async with job_app.open_async():
            await job_app.run_worker_async(
                wait=False, concurrency=concurrency, listen_notify=False, queues=["default"]
            )
