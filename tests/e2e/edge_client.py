"""A raw HTTP/1.1 client for the edge tests: it sends exactly the bytes a hostile client would, at its own pace."""

from __future__ import annotations

import asyncio
from pathlib import Path


def memory_of(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak) of a process, in kB, from /proc/<pid>/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def forget_peak(pid: int) -> None:
    """Reset the process's VmHWM to its current RSS (Linux's clear_refs 5): a peak measured after this is a new one."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def head(path: str, headers: dict[str, str], port: int) -> bytes:
    """The request line and headers of a POST."""
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Exchange:
    """One connection: what was sent, and what the server answered before it closed (or None)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.answer = asyncio.ensure_future(self._collect())  # completes when the server closes, with what it said
        self.sent = 0

    async def _collect(self) -> bytes:
        data = b""
        try:
            while chunk := await self.reader.read(65536):
                data += chunk
        except (ConnectionError, OSError):
            pass  # reset after its answer: what arrived before counts
        return data

    @classmethod
    async def open(cls, port: int) -> Exchange:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, data: bytes) -> bool:
        """Send data; False once the server has answered or closed (nothing more is sent then)."""
        if self.answer.done():
            return False
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError):
            return False
        self.sent += len(data)
        return True

    async def trickle(self, data: bytes, pace: float) -> None:
        """Send data one byte at a time, one every `pace` seconds, until it is all sent or the server stops listening."""
        for at in range(len(data)):
            if not await self.send(data[at : at + 1]):
                return
            await asyncio.wait([self.answer], timeout=pace)

    async def response(self, timeout: float = 15) -> tuple[int | None, bytes]:
        """(status, body) the server answered before closing the connection; (None, b"") if it closed without a word."""
        data = await asyncio.wait_for(asyncio.shield(self.answer), timeout)
        if not data.startswith(b"HTTP/1.1 "):
            return None, b""
        return int(data.split(b" ", 2)[1]), data.partition(b"\r\n\r\n")[2]

    def closed(self) -> bool:
        return self.answer.done()

    async def close(self) -> None:
        self.answer.cancel()
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass
