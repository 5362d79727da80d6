"""A real launched app (embedded model) shared by the UI tests of one module."""

from __future__ import annotations

import pytest

from tests.conftest import free_port


@pytest.fixture(scope="module")
def served_app(index_dir):
    from tutor.config import Settings
    from tutor.session import TutorSession
    from tutor.ui import launch

    settings = Settings(_env_file=None, data_dir=index_dir, model="embedded", max_tokens=64)
    session = TutorSession(settings)
    port = free_port()
    demo = launch(session, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/", session
    demo.close()
    session.close()
