"""The per-connection frame rate limit of the room socket (docs/signaling.md "Limits")."""

import time


class TokenBucket:
    """`burst` frames at once, refilled at `rate` frames per second."""

    def __init__(self, burst: float, rate: float) -> None:
        self.capacity, self.rate = burst, rate
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
