"""How ``vidgen serve`` runs uvicorn: a client that is slow to send a request is cut off.

uvicorn times out only an idle keep-alive connection (``timeout_keep_alive``, after a response).
A client that connects and sends nothing, or dribbles its request line and headers a byte at a
time, held a connection (and its slot) forever: an outside trial kept hundreds open that way.
``deadline_protocol`` adds the missing deadline: the headers of every request must arrive
within ``request_timeout`` seconds of the connection opening (or of the first byte after the
previous response), else the server answers 408 and closes. The body has its own deadline of
the same length, checked where it is read (``vidgen.api.app.BodyLimit``, after authentication).
"""

from __future__ import annotations

import asyncio
from typing import Any

DEFAULT_REQUEST_TIMEOUT = 10.0


def deadline_protocol(request_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline for each request's headers (imported lazily:
    uvicorn is the ``http`` extra, and the CLI's start-up stays light)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from vidgen.web.responses import render_json_detail

    class DeadlineProtocol(H11Protocol):
        def connection_made(self, transport: Any) -> None:
            self._header_timer: asyncio.TimerHandle | None = None
            super().connection_made(transport)
            self._watch_headers()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)

        def _watch_headers(self) -> None:
            """Arm the deadline while h11 waits for (the rest of) a request line and headers;
            disarm it once they are in (the body, and the app's own work, are not its concern)."""
            waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
            if waiting and self._header_timer is None:
                self._header_timer = self.loop.call_later(request_timeout, self._too_slow)
            elif not waiting:
                self._stop_header_timer()

        def _stop_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.conn.trailing_data[0]:  # part of a request came: say why it is cut off
                body = render_json_detail(
                    f"request headers not received within {request_timeout:g} s: "
                    "send the whole request at once"
                )
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                    + b"connection: close\r\ncontent-length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
            self.transport.close()

    return DeadlineProtocol


def run(app: Any, host: str, port: int, request_timeout: float) -> None:
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        http=deadline_protocol(request_timeout),
    )
