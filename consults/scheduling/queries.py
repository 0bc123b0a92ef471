"""SQL building blocks of the scheduling reads (`selectors.py`)."""

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import BooleanField, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import Coalesce

from consults.models import Consultation


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def with_spans(qs: QuerySet[Consultation]) -> QuerySet[Consultation]:
    """Names for `overlaps`: a booking's span and its reach (to the end of its buffer)."""
    reach_end = Coalesce("buffer_end", "end")
    if connection.vendor == "postgresql":
        return qs.alias(
            span=TsTzRange("start", "end", RangeBoundary()),
            reach=TsTzRange("start", reach_end, RangeBoundary()),
        )
    return qs.alias(reach_end=reach_end)


def overlaps(lo: datetime, hi: datetime, *, reach: bool) -> Q:
    """The booking's span (or reach) overlaps [lo, hi). On PostgreSQL in the exclusion
    constraints' own words (migration 0002), so their GiST indexes, which hold active
    bookings only, find the rows; a btree on start would walk every past consult of a
    specialist, a room or a patient."""
    if connection.vendor == "postgresql":
        return Q(**{f"{'reach' if reach else 'span'}__overlap": DateTimeTZRange(lo, hi)})
    return Q(start__lt=hi, **{f"{'reach_end' if reach else 'end'}__gt": lo})


class Epoch(Func):
    """Seconds since 1970 as a float: read thousands of instants without parsing each
    timestamp in Python (the search's hot path; ~10× faster than DateTimeField rows)."""

    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, **extra)


# Specialists share slot boundaries: the thousands of instants a search reads are mostly a
# few hundred distinct ones, each made once (datetimes are immutable, so sharing is safe).
# Bounded: at most ~2 MB, eight weeks of half-hour boundaries take ~2,700 entries.
@functools.lru_cache(maxsize=1 << 14)
def instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(round(seconds), UTC)


class AnyOf(Func):
    """`column = ANY(%s)` with the ids as one array parameter: sending hundreds of ids as
    an IN list of separate parameters cost more than running the query. PostgreSQL only."""

    output_field = BooleanField()

    def __init__(self, column: str, ids: list[int]) -> None:
        super().__init__(F(column))
        self.ids = ids

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column_sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"{column_sql} = ANY(%s::bigint[])", (*params, self.ids)


def among(column: str, ids: Iterable[Any]) -> Any:
    """A filter: `column` is one of `ids`."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return AnyOf(column, ids)
    return Q(**{f"{column}__in": ids})
