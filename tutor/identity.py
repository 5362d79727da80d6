"""Who a browser is: a learner id issued by the server and signed with a key that survives restarts.

The browser keeps `browser:<32 hex>.<signature>` (its resume code). The signature is an HMAC over the id
with the server's key (TUTOR_SECRET_KEY, else a random key written once to the data dir with mode 0600),
so a client cannot make up an id or take another learner's: the id alone, without its signature, is
refused. With logins on, the login name is the learner id and the browser's code is not used.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

PREFIX = "browser:"
TOKEN = re.compile(r"^browser:[0-9a-f]{32}\.[0-9a-f]{32}$")


def load_key(data_dir: Path, configured: str | None = None) -> bytes:
    """The signing key: the setting, else `data_dir/secret.key` (created on first start, owner-only)."""
    if configured:
        return hashlib.sha256(configured.encode()).digest()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


class Identity:
    """Issue and check learner codes."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, learner_id: str) -> str:
        return hmac.new(self._key, learner_id.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        learner_id = PREFIX + secrets.token_hex(16)
        return f"{learner_id}.{self._sign(learner_id)}"

    def learner(self, code: str | None) -> str | None:
        """The learner id of a valid code, else None (a bare id, a forged or altered code)."""
        code = (code or "").strip()
        if not TOKEN.match(code):
            return None
        learner_id, _, signature = code.rpartition(".")
        return learner_id if hmac.compare_digest(signature, self._sign(learner_id)) else None

    def storage_secret(self) -> str:
        """The key Gradio's BrowserState encrypts localStorage with: derived, so it too survives restarts."""
        return hmac.new(self._key, b"browser-state", hashlib.sha256).hexdigest()[:32]

    def media_key(self, learner_id: str) -> str:
        """Per-learner salt for the names of plot images (unguessable by anyone else)."""
        return hmac.new(self._key, f"media:{learner_id}".encode(), hashlib.sha256).hexdigest()
