"""With TUTOR_AUTH, each login is its own learner and cannot reach another's conversation or progress."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import fake_model, free_port

pytestmark = pytest.mark.slow


def test_logins_are_isolated(tmp_path):
    from gradio_client import Client

    from tutor.config import Settings
    from tutor.session import TutorSession
    from tutor.ui import launch

    settings = Settings(_env_file=None, data_dir=tmp_path, auth="ann:pw-ann,bob:pw-bob")
    session = TutorSession(settings, model=fake_model(*["a reply"] * 10))
    port = free_port()
    demo = launch(session, "127.0.0.1", port, block=False)
    url = f"http://127.0.0.1:{port}/"
    try:
        assert httpx.get(url + "config", timeout=10).status_code == 401  # no session cookie, no app
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types for 401
            Client(url, verbose=False).predict("/help", "", api_name="/chat")
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types for 401
            Client(url, verbose=False, auth=("ann", "wrong")).predict("/help", "", api_name="/chat")
        ann = Client(url, verbose=False, auth=("ann", "pw-ann"))
        bob = Client(url, verbose=False, auth=("bob", "pw-bob"))
        session.learners.update_profile("user:ann", track="software_engineer", strategy="practice_first")
        ann.predict("/track ml_researcher", "", api_name="/chat")
        ann.predict("ann's private question", "", api_name="/chat")
        # bob claims ann's learner id in the browser-state field: the login name wins
        history, *_ = bob.predict("/progress", "user:ann", api_name="/chat")
        assert "not placed yet" in str(history[-1]["content"])
        assert all("private" not in str(m["content"]) for m in history)
        assert all("private" not in m.text for m in session.history("user:bob"))
        assert session.learners.get("user:ann")["profile"]["track"] == "ml_researcher"
        assert any("private" in m.text for m in session.history("user:ann"))
    finally:
        demo.close()
        session.close()
