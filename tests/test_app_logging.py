"""Application logging never blocks the caller on a stalled stdout, and flush() writes everything queued."""

import io
import logging
import threading

from spam_service.app_logging import BackgroundStreamHandler


class StalledStream(io.StringIO):
    """A stdout whose reader has stopped reading: writes block until `resume` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.resume = threading.Event()

    def write(self, text: str) -> int:
        self.resume.wait(timeout=30)
        return super().write(text)


def test_logging_returns_while_stdout_is_stalled_and_flush_writes_everything_in_order():
    stream = StalledStream()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.app_logging")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        finished = threading.Event()

        def log_many() -> None:
            for i in range(500):
                logger.warning("line %d", i)
            finished.set()

        threading.Thread(target=log_many).start()
        assert finished.wait(timeout=10), "logging blocked on a stalled stdout"
        assert stream.getvalue() == ""
        stream.resume.set()
        handler.flush()
        assert stream.getvalue().splitlines() == [f"line {i}" for i in range(500)]
    finally:
        logger.removeHandler(handler)
