"""The part both fake providers share: uvicorn in a background thread, recording, and raw responses.

Uvicorn (h11) is a real HTTP/1.1 server, so the SDKs' httpx clients see genuine chunked
streaming, keep-alive and, for a `Cut` step, a connection that really closes mid-body.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import threading
import time
from collections.abc import Iterable
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.wire.script import Error, RecordedRequest, Script, Step, StepLike, ToolCalls


def text_pieces(text: str) -> list[str]:
    """Word-sized deltas ("hello ", "world"), like a model emitting tokens."""
    return re.findall(r"\S+\s*|\s+", text)


def fixed_pieces(text: str, size: int) -> list[str]:
    """Fixed-size slices, so a JSON argument string arrives split mid-token."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def retry_headers(step: Error) -> dict[str, str]:
    """The step's extra headers plus `retry-after` / `retry-after-ms` when it names a delay."""
    headers = dict(step.headers)
    if step.retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(step.retry_after)))
        headers["retry-after-ms"] = str(round(step.retry_after * 1000))
    return headers


class StreamedResponse:
    """Status, headers, then one body write per piece (chunked), so each SSE event is its own chunk.

    With `finish=False` it returns without ending the body; uvicorn then closes the socket (logging
    "ASGI callable returned without completing response"), so the client sees a chunked body that
    never ends: no final SSE event, no `[DONE]`. That is the `Cut` step.
    """

    def __init__(
        self,
        pieces: Iterable[bytes],
        media_type: str,
        headers: dict[str, str] | None = None,
        *,
        finish: bool = True,
    ) -> None:
        self.pieces = list(pieces)
        self.finish = finish
        self.headers = [(b"content-type", media_type.encode()), (b"cache-control", b"no-cache")]
        self.headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        for piece in self.pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(0)  # let the transport write between pieces
        if self.finish:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class ScriptedServer:
    """Base class: replays `script` over HTTP on 127.0.0.1:<free port>; use as a context manager.

    Subclasses define `completion_path`, `routes()` additions and how a step becomes a response.
    `strict` makes the server reject, with the provider's 400, requests the real API would reject
    (for example a tool result whose id matches no earlier tool call); the step is not consumed.
    """

    completion_path = "/"
    id_prefix = "id_"

    def __init__(
        self,
        script: Script | Iterable[StepLike] = (),
        *,
        strict: bool = True,
        arg_piece_size: int = 7,
    ) -> None:
        self.script = script if isinstance(script, Script) else Script(script)
        self.strict = strict
        self.arg_piece_size = arg_piece_size
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    # -- what tests use ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, without any API prefix."""
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Completion requests received so far (rejected ones included, with `.rejected` set)."""
        return self.script.requests

    @property
    def bodies(self) -> list[Any]:
        """Just the JSON bodies of `requests`."""
        return [r.body for r in self.requests]

    def load(self, *steps: StepLike) -> Self:
        """Replace the remaining steps and clear the request log."""
        self.script.reset(steps)
        return self

    def start(self) -> Self:
        app = Starlette(routes=self.routes())
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            http="h11",
            loop="asyncio",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=type(self).__name__, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- for subclasses ---------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [Route(self.completion_path, self._completion, methods=["POST"])]

    def new_id(self, prefix: str | None = None) -> str:
        return f"{prefix or self.id_prefix}{next(self._ids):04d}"

    def calls_of(self, step: Step) -> list[tuple[str, str, str]]:
        """`(id, name, arguments JSON)` per tool call of a step, ids made up where the script has none."""
        calls = step.calls if isinstance(step, ToolCalls) else ()
        return [(c.id or self.new_id(), c.name, c.arguments_json) for c in calls]

    def validate(self, body: Any) -> str | None:
        """The 400 message the real API would give for this body, or None."""
        return None

    def error_response(
        self, status: int, message: str, error_type: str | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        raise NotImplementedError

    def answer(self, step: Step, body: dict[str, Any]) -> Response | StreamedResponse:
        raise NotImplementedError

    async def _completion(self, request: Request) -> Response | StreamedResponse:
        raw = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        problem = None if isinstance(body, dict) else "The request body must be a JSON object."
        if problem is None and self.strict:
            problem = self.validate(body)
        if problem is not None:
            self.script.record(RecordedRequest(request.method, request.url.path, headers, body, rejected=problem))
            return self.error_response(400, problem)
        step = self.script.next_step()
        self.script.record(RecordedRequest(request.method, request.url.path, headers, body, step=step))
        if isinstance(step, Error):
            return self.error_response(step.status, step.message, step.error_type, retry_headers(step))
        return self.answer(step, body)


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; `data` is JSON-encoded unless it is already a str."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=headers)


def rough_tokens(value: Any) -> int:
    """A stand-in token count (about four characters a token) for the usage fields."""
    text = value if isinstance(value, str) else json.dumps(value)
    return max(1, len(text) // 4)
