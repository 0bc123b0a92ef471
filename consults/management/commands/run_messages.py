"""The outbound message worker: a long-running loop, or one pass with --once (cron, tests)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from consults.messaging.queue import send_due


class Command(BaseCommand):
    help = "Send queued messages (e-mail, SMS, Zalo), retrying failures with backoff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between passes.")

    def handle(self, *args: Any, once: bool = False, interval: float = 5.0, **kw: Any) -> None:
        while True:
            counts = send_due()
            if counts or once:
                self.stdout.write(f"messages: {counts}")
            if once:
                return
            time.sleep(interval)
