"""A portable SQL median: percentile_cont on PostgreSQL, a registered aggregate on SQLite."""

import statistics
from collections.abc import Iterable
from typing import Any

from django.db.models import Aggregate, FloatField


class _SqliteMedian:
    """sqlite3 aggregate class: step() per row, finalize() at the end of the group."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


class Median(Aggregate):
    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Registering is cheap and idempotent; doing it here covers every connection,
        # including ones opened before this module was imported.
        connection.ensure_connection()
        connection.connection.create_aggregate("TH_MEDIAN", 1, _SqliteMedian)
        return self.as_sql(
            compiler, connection, function="TH_MEDIAN", template="%(function)s(%(expressions)s)"
        )


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None
