"""A learner stays who they are, and nobody else can be them: signed learner codes, server-side history,
one turn at a time, and the limits a shared deployment needs. Against a real launched server."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage

from tests.conftest import fake_model, free_port
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

pytestmark = pytest.mark.slow


def serve(data_dir: Path, port: int | None = None, model=None, **overrides):
    from tutor.config import Settings
    from tutor.session import TutorSession
    from tutor.ui import launch

    settings = Settings(_env_file=None, data_dir=data_dir, **overrides)
    session = TutorSession(settings, model=model or fake_model(*["a reply"] * 200))
    port = port or free_port()
    demo = launch(session, "127.0.0.1", port, block=False)
    return f"http://127.0.0.1:{port}/", session, demo


def call_by_index(url: str, fn_index: int, data: list, raw_body: bytes | None = None) -> list | None:
    """A raw queue call, as an attacker would make it (no gradio_client checks): the outputs, or None."""
    session_hash = json.loads(raw_body)["session_hash"] if raw_body else uuid.uuid4().hex[:11]
    body = raw_body or json.dumps({"data": data, "fn_index": fn_index, "session_hash": session_hash}).encode()
    joined = httpx.post(url + "gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
    assert joined.status_code == 200, joined.text
    with httpx.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session_hash}, timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return (msg.get("output") or {}).get("data")
    return None


def fn_index(url: str, name: str) -> int:
    config = httpx.get(url + "config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == name)


def texts(history) -> str:
    return json.dumps(history)


def test_another_learners_id_or_a_forged_code_reaches_nothing(tmp_path):
    from gradio_client import Client

    url, session, demo = serve(tmp_path)
    try:
        client = Client(url, verbose=False)
        _history, _, code, *_ = client.predict("my secret is tangerine", "", api_name="/chat")
        victim = session.identity.learner(code)
        assert victim and any("tangerine" in m.text for m in session.history(victim))
        forged = code[:-1] + ("0" if code[-1] != "0" else "1")
        for stolen in (victim, forged, "local", "browser:" + "0" * 32):
            history, *_ = client.predict("/progress", stolen, api_name="/chat")
            assert "tangerine" not in texts(history) and "not valid" in texts(history)
        # private functions called by index, past gradio_client: the page-load function and the chat handler
        loaded = call_by_index(url, fn_index(url, "on_load"), [victim])
        assert loaded is not None and "tangerine" not in texts(loaded)
        assert session.identity.learner(loaded[1]) != victim  # a new learner, not the victim
        restarted = call_by_index(url, fn_index(url, "on_restart"), [victim])  # restarting the victim's kernel
        assert "tangerine" not in texts(restarted) and "not valid" in texts(restarted)
        # the history comes from the server: a client cannot inject or echo one (the chat takes none)
        endpoint = client.view_api(return_format="dict")["named_endpoints"]["/chat"]
        assert [p["parameter_name"] for p in endpoint["parameters"]] == ["message", "stored"]
        assert all("tangerine" not in m.text for m in session.history(session.identity.learner(loaded[1])))
    finally:
        demo.close()
        session.close()


def test_ten_parallel_turns_of_one_learner_are_all_kept_in_order(tmp_path):
    from gradio_client import Client

    url, session, demo = serve(tmp_path, kernel_sandbox="off")
    try:
        client = Client(url, verbose=False)
        *_, code = client.predict("hello", "", api_name="/chat")
        learner = session.identity.learner(code)
        errors: list[Exception] = []

        def turn(i: int) -> None:
            try:
                Client(url, verbose=False).predict(f"/run print('turn {i}')", code, api_name="/chat")
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=turn, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors
        messages = [m for m in session.history(learner) if isinstance(m, HumanMessage | AIMessage)]
        asked = [(i, m.text) for i, m in enumerate(messages) if m.text.startswith("/run print('turn")]
        assert sorted(text for _, text in asked) == sorted(f"/run print('turn {i}')" for i in range(10))
        for i, text in asked:  # each turn's reply directly follows it
            n = text.split("turn ")[1].split("'")[0]
            assert isinstance(messages[i + 1], AIMessage) and f"turn {n}" in messages[i + 1].text
    finally:
        demo.close()
        session.close()


def test_each_limit_refuses_with_its_message_and_the_server_keeps_serving(tmp_path):
    from gradio_client import Client

    url, session, demo = serve(tmp_path, messages_per_minute=3, max_request_kb=64, max_upload_mb=1)
    try:
        flooder, other = Client(url, verbose=False), Client(url, verbose=False)
        *_, code = flooder.predict("one", "", api_name="/chat")
        flooder.predict("two", code, api_name="/chat")
        flooder.predict("three", code, api_name="/chat")
        history, *_ = flooder.predict("four", code, api_name="/chat")
        assert "more than 3 messages a minute" in texts(history) and "nothing was lost" in texts(history)
        history, *_ = other.predict("/help", "", api_name="/chat")  # another learner is still served
        assert "/lesson" in texts(history)
        # request bodies and uploads
        big = httpx.post(url + "gradio_api/queue/join", content=b"x" * 200_000,
                         headers={"content-type": "application/json"})  # fmt: skip
        assert big.status_code == 413 and "larger than this server accepts" in big.json()["detail"]
        upload = httpx.post(url + "gradio_api/upload", files={"files": ("a.bin", b"0" * (2 * 2**20))})
        assert upload.status_code == 413
        assert not list((tmp_path).rglob("a.bin"))
        history, *_ = other.predict("/help", "", api_name="/chat")
        assert "/lesson" in texts(history)
    finally:
        demo.close()
        session.close()


def test_login_attempts_are_rate_limited_per_user_and_address(tmp_path):
    from gradio_client import Client

    url, session, demo = serve(tmp_path, auth="ann:pw-ann,bob:pw-bob", logins_per_minute=3)
    try:
        bob = Client(url, verbose=False, auth=("bob", "pw-bob"))  # logged in before the attack
        statuses = [httpx.post(url + "login", data={"username": "ann", "password": f"guess{i}"}).status_code
                    for i in range(5)]  # fmt: skip
        assert statuses[:2] == [400, 400] and statuses[-1] == 429
        refused = httpx.post(url + "login", data={"username": "ann", "password": "pw-ann"})
        assert refused.status_code == 429 and "Too many login attempts" in refused.json()["detail"]
        history, *_ = bob.predict("/help", "", api_name="/chat")  # a logged-in user is still served
        assert "/lesson" in texts(history)
    finally:
        demo.close()
        session.close()


def test_any_unicode_is_accepted_or_refused_with_a_line(tmp_path):
    url, session, demo = serve(tmp_path)
    try:
        index = fn_index(url, "chat")
        # a lone surrogate, a NUL and a right-to-left override, sent as JSON escapes (no client library would)
        escaped = '"hi \\ud800 there \\u0000 \\u202e"'
        body = f'{{"data": [{escaped}, ""], "fn_index": {index}, "session_hash": "surrogate1"}}'.encode()
        outputs = call_by_index(url, index, [], raw_body=body)
        assert outputs is not None
        learner = session.identity.learner(outputs[2])
        said = [m.text for m in session.history(learner) if isinstance(m, HumanMessage)]
        assert said and "\ud800" not in said[0] and "\x00" not in said[0] and "\ufffd" in said[0]
    finally:
        demo.close()
        session.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is installed by `make test`")
def test_a_browser_finds_its_learner_after_a_server_restart(tmp_path):
    from playwright.sync_api import sync_playwright

    port = free_port()
    url, session, demo = serve(tmp_path, port=port)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(url, wait_until="domcontentloaded")
            box = page.locator("#message textarea")
            box.wait_for(timeout=60_000)
            page.wait_for_function("() => document.querySelector('#chat').innerText.includes('Set up my plan')",
                                   timeout=60_000)  # fmt: skip  # the page has its learner code
            box.fill("/track ml_researcher")
            box.press("Enter")
            page.wait_for_function("() => document.querySelector('#sidebar').innerText.includes('Researchers')",
                                   timeout=60_000)  # fmt: skip
            box.fill("remember the word pomegranate")
            box.press("Enter")
            rows = [(i,) for i in session.learners.learner_ids("browser:")]
            assert len(rows) == 1
            before = rows[0][0]
            for _ in range(120):  # the turn is checkpointed
                if len(session.history(before)) >= 4:
                    break
                page.wait_for_timeout(500)
            assert any("pomegranate" in m.text for m in session.history(before))
        finally:
            demo.close()
            session.close()
        url, session, demo = serve(tmp_path, port=port)  # a new process would read the same key from the data dir
        try:
            page.reload(wait_until="domcontentloaded")
            page.locator("#message textarea").wait_for(timeout=60_000)
            page.wait_for_function("() => document.querySelector('#chat').innerText.includes('pomegranate')",
                                   timeout=60_000)  # fmt: skip
            assert "Researchers" in page.locator("#sidebar").inner_text()
            page.screenshot(path=str(SCREENSHOTS / "after_server_restart.png"), full_page=True)
            rows = [(i,) for i in session.learners.learner_ids("browser:")]
            assert [r[0] for r in rows] == [before]  # the same learner, no orphan
        finally:
            browser.close()
            demo.close()
            session.close()


def test_a_full_queue_says_so_and_the_running_turn_finishes(tmp_path):
    from gradio_client import Client

    url, session, demo = serve(tmp_path, kernel_sandbox="off", concurrency=1, queue_size=1)
    try:
        codes = [Client(url, verbose=False).predict("hi", "", api_name="/chat")[2] for _ in range(3)]
        jobs = [Client(url, verbose=False).submit("/run import time; time.sleep(4); print('done')", code,
                                                  api_name="/chat") for code in codes]  # fmt: skip
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(texts(job.result(timeout=120)))
            except Exception as exc:  # gradio_client raises the server's refusal
                outcomes.append(f"refused: {exc}")
        assert any("done" in o for o in outcomes)  # the running turn finished
        assert any(o.startswith("refused") and "queue is full" in o.lower() for o in outcomes), outcomes
    finally:
        demo.close()
        session.close()
