"""Delete Idempotency-Key answers past IDEMPOTENCY_RETENTION_HOURS (run by a systemd timer)."""

from clinics.idempotency import idempotency_records_purge
from clinics.management.commands._purge import PurgeCommand


class Command(PurgeCommand):
    help = "Delete stored Idempotency-Key answers older than IDEMPOTENCY_RETENTION_HOURS."
    what = "idempotency records"

    def purge(self, *, batch_size: int) -> int:
        return idempotency_records_purge(batch_size=batch_size)
