"""An ASGI guard in front of the web UI: request bodies have a size limit, logins a rate limit.

Gradio limits uploads itself (`max_file_size`); this refuses any other body over `max_request_kb`
(a forged 80 MB chat history never reaches a handler) and counts login attempts per address and per
user name, answering 413 / 429 with a sentence a person can act on.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from tutor.limits import RateLimiter

UPLOAD_PATHS = ("/upload", "/gradio_api/upload")


class TooLarge(Exception):
    pass


class Guard:
    def __init__(self, app, max_body: int, max_upload: int, logins: RateLimiter) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.logins = logins

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.max_upload if path.endswith(UPLOAD_PATHS) else self.max_body
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse(send, 413, f"The request is larger than this server accepts ({limit // 1024:,} KB).")
            return
        if scope.get("method") == "POST" and path.rstrip("/").endswith("/login"):
            body = await read_all(receive, limit)
            if body is None:
                await refuse(send, 413, "The login request is too large.")
                return
            address = (scope.get("client") or ("?", 0))[0]
            user = (parse_qs(body.decode("utf-8", "replace")).get("username") or [""])[0][:128]
            wait = self.logins.check(f"addr:{address}") or self.logins.check(f"user:{user}")
            if wait:
                await refuse(send, 429, f"Too many login attempts. Wait {wait:.0f} s and try again.")
                return
            await self.app(scope, replay(body), send)
            return
        await self.app(scope, counted(receive, limit), send)


async def read_all(receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes):
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def counted(receive, limit: int):
    """A body without Content-Length (chunked) is cut off once it passes the limit."""
    size = 0

    async def wrapped():
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise TooLarge(f"request body over {limit} bytes")
        return message

    return wrapped


async def refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail, "error": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
