"""Retry policy as data: the delay before the next attempt, or None when it is time to give up."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """Delays (seconds) after attempt 1, 2, ...; the last repeats; jitter is a ± fraction."""

    delays: tuple[float, ...]
    max_attempts: int
    jitter: float = 0.2
    #: a platform's own retry-after hint is honoured up to this many seconds
    max_hint: float = 86_400.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def next_delay(self, attempts: int, hint: float | None = None, floor: float = 0.0) -> float | None:
        """Seconds to wait after `attempts` failed attempts, or None when no attempt is left."""
        if attempts >= self.max_attempts:
            return None
        base = self.delays[min(attempts, len(self.delays)) - 1]
        delay = base * self.rng.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else base
        if hint is not None:
            delay = max(delay, min(hint, self.max_hint))
        return max(delay, floor)
