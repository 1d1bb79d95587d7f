"""Is this process able to serve? Each dependency is checked and named when it fails."""

import dataclasses
import logging

from domain import database

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HealthReport:
    database: str

    @property
    def ok(self) -> bool:
        return self.database == "ok"

    def as_dict(self) -> dict[str, str]:
        return {"status": "ok" if self.ok else "unavailable", "database": self.database}


async def check() -> HealthReport:
    try:
        await database.ping()
    except database.DatabaseUnavailable as error:
        logger.warning("Health check: database unavailable: %s", error)
        return HealthReport(database="unavailable")
    return HealthReport(database="ok")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReadinessReport:
    database: str
    migrations: str
    worker: str

    @property
    def ok(self) -> bool:
        return self.database == self.migrations == self.worker == "ok"

    def as_dict(self) -> dict[str, str]:
        return {
            "status": "ok" if self.ok else "unavailable",
            "database": self.database,
            "migrations": self.migrations,
            "worker": self.worker,
        }


async def ready(*, worker_silence_limit: float) -> ReadinessReport:
    """Can this deployment answer questions? The database is reachable, its schema is the
    code's, and a job worker (here or elsewhere) beat within ``worker_silence_limit`` seconds:
    without one, questions are acknowledged but never answered."""
    try:
        found = await database.readiness()
    except database.DatabaseUnavailable as error:
        logger.warning("Readiness check: database unavailable: %s", error)
        return ReadinessReport(database="unavailable", migrations="unknown", worker="unknown")
    migrations = f"{found.pending_migrations} pending" if found.pending_migrations else "ok"
    if found.worker_silent_for is None:
        worker = "none seen"
    elif found.worker_silent_for > worker_silence_limit:
        worker = f"silent for {found.worker_silent_for:.0f}s"
    else:
        worker = "ok"
    return ReadinessReport(database="ok", migrations=migrations, worker=worker)
