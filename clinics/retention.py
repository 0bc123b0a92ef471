"""Deleting personal data past its retention period, in bounded batches."""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from clinics.models import AUDIT_PURGE_SETTING, AuditEntry


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


def audit_entries_purge(*, batch_size: int = 1000) -> int:
    """Delete the audit entries older than AUDIT_RETENTION_DAYS, oldest first; return how many.
    With 0 (the default) the log is kept for ever and nothing is deleted.

    The one way audit entries leave: the ORM refuses to delete them, so this is SQL, and on
    PostgreSQL the audit trigger lets a DELETE through only for rows older than the cutoff
    that the same transaction declared (AUDIT_PURGE_SETTING). The declaration is cleared
    after each batch, so it never outlives the DELETE even inside an outer transaction.
    Batches as in delete_in_batches."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if settings.AUDIT_RETENTION_DAYS == 0:
        return 0
    cutoff = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    delete = (
        f"DELETE FROM {table} WHERE id IN "  # noqa: S608 (the table name is the model's)
        f"(SELECT id FROM {table} WHERE at < %s ORDER BY at, id LIMIT %s)"
    )
    declare = "SELECT set_config(%s, %s, true)"
    on_postgres = connection.vendor == "postgresql"
    removed = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            if on_postgres:
                cursor.execute(declare, [AUDIT_PURGE_SETTING, cutoff.isoformat()])
            cursor.execute(delete, [connection.ops.adapt_datetimefield_value(cutoff), batch_size])
            deleted = cursor.rowcount
            if on_postgres:
                cursor.execute(declare, [AUDIT_PURGE_SETTING, ""])
        removed += deleted
        if deleted < batch_size:
            return removed
