"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records every mail it accepted.

A mail counts as accepted, as in SMTP itself, once the server has answered its DATA
with 250. For the tests of failures it can refuse a recipient once (451, "try again
later", as a greylisting server does), and hold a chosen mail before answering it,
until the test has done what it wanted meanwhile (killed the worker that sends it);
a held mail is then refused, never recorded.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class AcceptedMail:
    to: tuple[str, ...]
    subject: str
    message_id: str


class RecordingHandler:
    def __init__(self):
        self.accepted: list[AcceptedMail] = []
        self.refuse_once: set[str] = set()
        self.hold_number: int | None = None  # the n-th DATA (1 for the first) is held
        self.holding = threading.Event()
        self.release = threading.Event()
        self._data_count = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            if address in self.refuse_once:
                self.refuse_once.discard(address)
                return "451 4.7.1 Please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self._data_count += 1
            number = self._data_count
        if number == self.hold_number:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
            return "451 4.3.0 Not accepted"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.accepted.append(
                AcceptedMail(
                    to=tuple(envelope.rcpt_tos),
                    subject=" ".join(str(message["Subject"]).split()),  # unfolded
                    message_id=str(message["Message-ID"]),
                )
            )
        return "250 Message accepted for delivery"


class MailServer:
    """Started on a free port of 127.0.0.1; ``stop()`` ends it."""

    def __init__(self):
        self.handler = RecordingHandler()
        self.port = _free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def accepted(self) -> list[AcceptedMail]:
        return list(self.handler.accepted)

    def stop(self) -> None:
        self.handler.release.set()
        self._controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
