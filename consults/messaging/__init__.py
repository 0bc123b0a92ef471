"""The outbound queue: every message to a person (e-mail, SMS, Zalo) is a row, sent by the
`run_messages` worker, retried with backoff, dead-lettered after MESSAGES_MAX_ATTEMPTS, and
updated by the providers' delivery receipts (docs/messages.md)."""
