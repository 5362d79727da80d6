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
    history, textbox, learner, _options, _side = client.predict("/help", [], "api-learner", api_name="/chat")
    assert textbox == "" and learner == "api-learner"
    assert history[-1]["role"] == "assistant" and "/lesson" in str(history[-1]["content"])
    # a learner without a track is asked the intake questions first
    history, *_ = client.predict("What is a token?", [], "api-learner", api_name="/chat")
    assert "(1/6)" in str(history[-1]["content"])
    for answer in ["Software engineer / developer", "2", "4", "ship", "skip", "practice"]:
        history, *_ = client.predict(answer, history, "api-learner", api_name="/chat")
    assert "Your track: Software Engineers" in str(history[-1]["content"])
    history, *_ = client.predict("What is a token?", [], "api-learner", api_name="/chat")
    assert history[-1]["role"] == "assistant" and str(history[-1]["content"]).strip()
    assert session.learners.get("api-learner")["profile"]["track"] == "software_engineer"


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
        # first visit: the intake asks six questions with clickable options
        page.wait_for_function("() => document.querySelector('#chat').innerText.includes('(1/6)')", timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "intake.png"), full_page=True)
        for step, choice in enumerate(["Data scientist / analyst", "Comfortable in notebooks and scripts",
                                       "Trained classic models (scikit-learn, XGBoost)",
                                       "Fine-tune, evaluate and compare models", "4-8 hours",
                                       "Read the theory first"], 1):  # fmt: skip
            page.locator("#options label", has_text=choice).first.click()
            expected = f"({step + 1}/6)" if step < 6 else "Your track"
            page.wait_for_function(
                f"() => document.querySelector('#chat').innerText.includes('{expected}')", timeout=60_000
            )
        page.wait_for_function(
            "() => document.querySelector('#sidebar').innerText.includes('Data Scientists')", timeout=30_000
        )
        page.screenshot(path=str(SCREENSHOTS / "placed.png"), full_page=True)
        bots = "document.querySelectorAll('#chat [data-testid=bot]')"
        before = page.evaluate(f"() => {bots}.length")
        box.fill("Explain attention in one sentence.")
        box.press("Enter")
        page.wait_for_function(
            f"() => {{ const m = {bots}; return m.length > {before} && m[m.length-1].innerText.trim().length > 10 }}",
            timeout=120_000,
        )
        page.wait_for_timeout(3000)  # let the stream finish
        page.screenshot(path=str(SCREENSHOTS / "chat.png"), full_page=True)
        answer = page.evaluate(f"() => {{ const m = {bots}; return m[m.length-1].innerText }}").strip()
        assert len(answer) > 10 and "Your track" not in answer
        page.reload(wait_until="domcontentloaded")
        page.locator("#message textarea").wait_for(timeout=60_000)
        page.wait_for_function(
            "() => document.querySelector('#chat').innerText.includes('Explain attention in one sentence.')",
            timeout=30_000,
        )
        page.wait_for_timeout(1000)
        page.screenshot(path=str(SCREENSHOTS / "after_reload.png"), full_page=True)
        history = page.locator("#chat").inner_text()
        assert "Explain attention in one sentence." in history
        assert " ".join(answer.split()[:5]) in " ".join(history.split())  # the answer came back too
        assert "Data Scientists" in page.locator("#sidebar").inner_text()  # progress survives the reload
        browser.close()
