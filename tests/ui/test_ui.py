"""The web UI answers: through gradio_client (the API) and in a real headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def test_gradio_client_gets_an_answer(served_app):
    from gradio_client import Client

    url, session = served_app
    client = Client(url, verbose=False)
    history, textbox, learner = client.predict("/help", [], "api-learner", api_name="/chat")
    assert textbox == "" and learner == "api-learner"
    assert history[-1]["role"] == "assistant" and "/lesson" in str(history[-1]["content"])
    history, _, _ = client.predict("What is a token?", [], "api-learner", api_name="/chat")
    assert history[-1]["role"] == "assistant" and str(history[-1]["content"]).strip()
    assert [m.type for m in session.history("api-learner")] == ["human", "ai", "human", "ai"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is installed by `make test`")
def test_browser_types_a_message_and_sees_the_answer_after_reload(served_app):
    from playwright.sync_api import sync_playwright

    url, _ = served_app
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        box = page.locator("#message textarea")
        box.wait_for(timeout=60_000)
        assert "embedded" in page.locator("#model-label").inner_text()
        box.fill("Explain attention in one sentence.")
        box.press("Enter")
        bot = page.locator("#chat .message.bot, #chat [data-testid='bot']")
        bot.first.wait_for(timeout=120_000)
        page.wait_for_function(
            "() => { const m = document.querySelectorAll('#chat [data-testid=\"bot\"]');"
            " return m.length > 0 && m[m.length-1].innerText.trim().length > 10 }",
            timeout=120_000,
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SCREENSHOTS / "chat.png"), full_page=True)
        answer = bot.last.inner_text()
        assert len(answer.strip()) > 10
        page.reload(wait_until="domcontentloaded")
        page.locator("#message textarea").wait_for(timeout=60_000)
        page.wait_for_function(
            "() => document.querySelector('#chat').innerText.includes('Explain attention in one sentence.')",
            timeout=30_000,
        )
        page.screenshot(path=str(SCREENSHOTS / "after_reload.png"), full_page=True)
        browser.close()
