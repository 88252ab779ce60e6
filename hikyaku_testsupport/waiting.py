"""Polling until a condition holds, with the reason when it does not."""

from __future__ import annotations

import time

DEFAULT_TIMEOUT = 30.0


class WaitTimeout(TimeoutError):
    """The condition did not hold in time."""


class ProcessDied(RuntimeError):
    """A process being waited for has exited; waiting any longer is pointless."""


def wait_for(predicate, timeout: float = DEFAULT_TIMEOUT, interval: float = 0.2, what: str = "condition",
             alive=None):
    """Polls ``predicate()`` until it returns a truthy value, which is returned.

    Exceptions raised by the predicate count as "not yet" (the last one is reported on
    timeout), so a predicate may run a command that fails while a server restarts;
    ``ProcessDied`` ends the wait at once. ``alive()`` returning False (the process
    waited for has exited) ends it too.
    """
    deadline = time.monotonic() + timeout
    last_value = None
    last_error = None
    while True:
        try:
            last_value = predicate()
            last_error = None
            if last_value:
                return last_value
        except ProcessDied:
            raise
        except Exception as error:  # noqa: BLE001 -- reported on timeout
            last_error = error
        if alive is not None and not alive():
            raise ProcessDied(f"gave up waiting for {what}: the process exited")
        if time.monotonic() >= deadline:
            detail = f"last error: {last_error!r}" if last_error else f"last value: {last_value!r}"
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}; {detail}")
        time.sleep(interval)
