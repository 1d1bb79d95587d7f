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
