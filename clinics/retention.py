"""Deleting personal data past its retention period, in bounded batches."""

from django.db.models import Model, QuerySet


def delete_in_batches(expired: QuerySet[Model], *, oldest_first: str, batch_size: int) -> int:
    """Delete the rows of `expired`, at most `batch_size` per DELETE, each its own transaction
    (call it outside any atomic block), so a purge never holds many row locks for long and
    the writes that add rows meanwhile are not held up. Returns how many went."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    removed = 0
    while True:
        batch = list(expired.order_by(oldest_first).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return removed
        removed += expired.filter(pk__in=batch).delete()[0]
