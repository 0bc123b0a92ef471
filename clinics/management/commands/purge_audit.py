"""Delete audit entries past AUDIT_RETENTION_DAYS (run by a systemd timer; 0 keeps them all)."""

from clinics.management.commands._purge import PurgeCommand
from clinics.retention import audit_entries_purge


class Command(PurgeCommand):
    help = "Delete audit entries older than AUDIT_RETENTION_DAYS (default 0: keep them all)."
    what = "audit entries"

    def purge(self, *, batch_size: int) -> int:
        return audit_entries_purge(batch_size=batch_size)
