"""A scripted stand-in for *Zoho* (not for our code): a real HTTP server on 127.0.0.1 that
answers what a test scripts, to produce what emailshare never does (429 with ``Retry-After``,
503s, dropped connections, the shapes and spellings Zoho's documents disagree on).

    with FakeZoho() as zoho:
        zoho.on("GET", "/crm/v8/org", Scripted(503), Scripted(200, BODY))
        ...
        assert [r.path for r in zoho.seen] == [...]
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

NOT_SCRIPTED = {
    "code": "INVALID_URL_PATTERN",
    "details": {},
    "message": "Please check if the URL trying to access is a correct one",
    "status": "error",
}


@dataclass(frozen=True)
class Scripted:
    """One answer. ``body``: bytes as they are, anything else as JSON. ``drop``: close the
    connection without answering. ``pause``: seconds to hold the answer back (to let
    concurrent callers pile up; never asserted on)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    pause: float = 0.0


@dataclass(frozen=True)
class Seen:
    """A request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        prefix = "Zoho-oauthtoken "
        return auth[len(prefix) :] if auth.startswith(prefix) else None


Responder = Callable[[Seen], Scripted]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops concurrent connects, which then wait a second for SYN
    # retransmission.
    request_queue_size = 64


class FakeZoho:
    """Answers per (method, path): scripted answers in order, the last one repeated, or a
    function of the request. Everything received is in :attr:`seen`, in arrival order."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._routes: dict[tuple[str, str], list[Scripted] | Responder] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        # A short poll: shutdown() waits for the loop to notice, up to one interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def on(self, method: str, path: str, *answers: Scripted) -> None:
        """Script answers for a route, served in order; the last one is repeated."""
        self._routes[(method, path)] = list(answers)

    def respond(self, method: str, path: str, responder: Responder) -> None:
        """Answer a route with a function of the request."""
        self._routes[(method, path)] = responder

    def requests(self, method: str, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.method == method and s.path == path]

    def _answer(self, seen: Seen) -> Scripted:
        with self._lock:
            self.seen.append(seen)
            route = self._routes.get((seen.method, seen.path))
            if route is None:
                return Scripted(404, NOT_SCRIPTED)
            if isinstance(route, list):
                return route.pop(0) if len(route) > 1 else route[0]
        return route(seen)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                answer = fake._answer(seen)
                if answer.pause:
                    time.sleep(answer.pause)
                if answer.drop:
                    self.close_connection = True
                    return
                if isinstance(answer.body, bytes):
                    content = answer.body
                elif answer.body is None:
                    content = b""
                else:
                    content = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                if answer.body is not None and not isinstance(answer.body, bytes):
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> FakeZoho:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
