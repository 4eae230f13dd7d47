"""Forked workers for `vnuma lint -j N`, from what the operating system gives: `os.fork`,
pipes that carry pickles, and a counter in memory shared across the fork.

multiprocessing does the same, but importing it and making its shared `Value` (ctypes,
and a heap arena in a temporary directory) costs ~35 ms before the first file is read,
a tenth of a 1,000-file `lint -j 2`. Only fork is supported: the workers inherit the
parent's imports and configuration instead of receiving them.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
import sys
from collections.abc import Callable
from contextlib import suppress

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any, BinaryIO

_COUNT = struct.Struct("q")


def can_fork() -> bool:
    return hasattr(os, "fork")


class WorkerDied(Exception):
    """The other end of a channel is gone: it closed before a whole message came, or
    before one could be sent."""


class SharedCounter:
    """A number that the parent and its forked workers take in turn, each value once: it
    lives in an anonymous shared mapping, and a process holds the one byte of a pipe
    while it reads and increments it (a lock made of a pipe, like make's jobserver)."""

    __slots__ = ("_memory", "_token_read", "_token_write")

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, _COUNT.size)  # MAP_SHARED: one counter after a fork
        self._token_read, self._token_write = os.pipe()
        os.write(self._token_write, b".")

    def take(self) -> int:
        """The current value, which this process now has; the counter moves on by one."""
        os.read(self._token_read, 1)  # waits while another process holds the token
        try:
            (value,) = _COUNT.unpack_from(self._memory)
            _COUNT.pack_into(self._memory, 0, value + 1)
        finally:
            os.write(self._token_write, b".")
        return int(value)

    def close(self) -> None:
        os.close(self._token_read)
        os.close(self._token_write)
        self._memory.close()


class Channel:
    """One process's ends of the pipes to another: pickles out, pickles in."""

    __slots__ = ("_reader", "_writer")

    def __init__(self, reader: BinaryIO | None, writer: BinaryIO | None) -> None:
        self._reader = reader
        self._writer = writer

    def send(self, message: Any) -> None:
        assert self._writer is not None, "a channel that only receives"
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)  # whole, or nothing sent
        try:
            self._writer.write(data)
            self._writer.flush()
        except BrokenPipeError as exc:
            raise WorkerDied from exc

    def receive(self) -> Any:
        """The next message; WorkerDied when the sender ended before sending it whole."""
        assert self._reader is not None, "a channel that only sends"
        try:
            return pickle.load(self._reader)
        except (EOFError, pickle.UnpicklingError) as exc:
            raise WorkerDied from exc

    def close(self) -> None:
        for end in (self._reader, self._writer):
            if end is not None:
                # what a send to a gone process left in the buffer is dropped
                with suppress(BrokenPipeError):
                    end.close()


class Worker:
    """A forked child, as its parent sees it: its pid and the channel to it."""

    __slots__ = ("channel", "pid")

    def __init__(self, pid: int, channel: Channel) -> None:
        self.pid = pid
        self.channel = channel

    def join(self) -> None:
        self.channel.close()
        os.waitpid(self.pid, 0)

    def stop(self) -> None:
        """End the child now (the parent failed: what it would send is not wanted)."""
        import signal

        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)


def fork_worker(work: Callable[[Channel], None], others: list[Worker]) -> Worker:
    """A child running ``work`` with its channel to the parent; ``others`` are the
    workers forked before it, whose channels it closes (a child holding the parent's end
    of another's pipe would keep that one from seeing the parent end). Whatever ends
    the child, it exits without returning to the caller; what it raises is one line on
    stderr, and the parent sees a channel that closed (WorkerDied)."""
    child_read, parent_write = os.pipe()
    parent_read, child_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            for other in others:
                other.channel.close()
            os.close(parent_read)
            os.close(parent_write)
            work(Channel(os.fdopen(child_read, "rb"), os.fdopen(child_write, "wb")))
            status = 0
        except KeyboardInterrupt:
            status = 130
        except WorkerDied:
            pass  # the parent stopped listening: it reports why
        except BaseException as exc:  # the child must not return to the caller
            _tell(f"vnuma: lint worker {os.getpid()}: {type(exc).__name__}: {exc}")
        finally:
            os._exit(status)
    os.close(child_read)
    os.close(child_write)
    return Worker(pid, Channel(os.fdopen(parent_read, "rb"), os.fdopen(parent_write, "wb")))


def _tell(line: str) -> None:
    with suppress(OSError, ValueError):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
