"""Writing to raw file descriptors, as the line stores do: no Python buffer, so their fsync covers every byte."""

import os


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data`: `os.write` may write less than asked (a signal, a pipe, a nearly full disk)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
