"""What a background worker knows about the dependency it keeps retrying: whether it is failing, why, how often it
has failed, and how long to wait before the next attempt.

The journal (local disk), the HDFS shipper, the prediction-store writer and the Vault token renewal all retry
for as long as the service runs. An outage must not flood the log, so a failure is logged only when its cause
differs from the previous one, and the first success after it is logged once; every attempt is still counted.
"""

from __future__ import annotations

import logging


class OutageTracker:
    """The failure state of one retried dependency, and the log lines for its changes.

    Logs through the caller's logger, so each line keeps the name of the module that owns the dependency (and,
    through `stacklevel`, the caller's function and line).

    Back-off: after n consecutive failures `delay` is `first_delay * 2**(n-1)`, at most `max_delay`; 0 while the
    dependency works (and always, with the default `first_delay` of 0).
    """

    def __init__(self, logger: logging.Logger, *, first_delay: float = 0.0, max_delay: float = 0.0) -> None:
        self._logger = logger
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._last_error: str | None = None
        self._errors = 0
        self._delay = 0.0

    @property
    def last_error(self) -> str | None:
        """The cause of the latest failure; None once an attempt has succeeded since."""
        return self._last_error

    @property
    def errors(self) -> int:
        """Failed attempts since start-up (each retry counts; a success does not reset it)."""
        return self._errors

    @property
    def failing(self) -> bool:
        return self._last_error is not None

    @property
    def delay(self) -> float:
        """Seconds to wait before the next attempt."""
        return self._delay

    def failed(self, error: str, message: str, *args: object, level: int) -> None:
        """Count a failed attempt whose cause is `error`; log `message % args` at `level` unless `error` is the
        cause already logged."""
        self._errors += 1
        self._delay = min(self.max_delay, max(self.first_delay, self._delay * 2))
        if error != self._last_error:
            self._logger.log(level, message, *args, stacklevel=2)
        self._last_error = error

    def succeeded(self, message: str, *args: object, level: int) -> None:
        """An attempt worked: log `message % args` at `level` if it ends an outage, and reset the back-off."""
        if self._last_error is not None:
            self._logger.log(level, message, *args, stacklevel=2)
            self._last_error = None
        self._delay = 0.0
