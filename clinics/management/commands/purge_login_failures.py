"""Delete failed logins past LOGIN_FAILURE_RETENTION_HOURS (run by a systemd timer)."""

from clinics.login import login_failures_purge
from clinics.management.commands._purge import PurgeCommand


class Command(PurgeCommand):
    help = "Delete recorded failed logins older than LOGIN_FAILURE_RETENTION_HOURS."
    what = "login failures"

    def purge(self, *, batch_size: int) -> int:
        return login_failures_purge(batch_size=batch_size)
