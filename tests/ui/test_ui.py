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
    history, textbox, learner, *_ = client.predict("/help", [], "api-learner", api_name="/chat")
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

        def send(text: str, wait_for: str | None = None) -> str:
            before = page.evaluate(f"() => {bots}.length")
            box.fill(text)
            box.press("Enter")
            try:
                page.wait_for_function(
                    f"() => {bots}.length > {before}",  # a new reply (its last part may be an image)
                    timeout=120_000,
                )
            except Exception:
                page.screenshot(path=str(SCREENSHOTS / "failed_send.png"), full_page=True)
                raise
            if wait_for:
                page.wait_for_function(
                    f"() => document.querySelector('#chat').innerText.includes({wait_for!r})", timeout=120_000
                )
            page.wait_for_timeout(1500)  # let the stream finish
            return page.evaluate(f"() => {{ const m = {bots}; return m[m.length-1].innerText }}").strip()

        send("what is multi-head attention?", wait_for="03_multi_head_attention.md#")
        page.screenshot(path=str(SCREENSHOTS / "explain.png"), full_page=True)
        assert "03_multi_head_attention.md#" in page.locator("#chat").inner_text()  # cited course text
        send("run print(2+2)", wait_for="4")
        assert "**ok**" in page.locator("#chat").inner_text() or "ok ·" in page.locator("#chat").inner_text()
        send("/run import matplotlib.pyplot as plt; plt.plot([1, 3, 2]); plt.show()")
        page.wait_for_selector("#chat img", timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "run_plot.png"), full_page=True)
        before_bar = page.locator("#sidebar").inner_text()
        assert "w1.attention · 15%" in before_bar
        send("/quiz w1.attention", wait_for="Q1/5")
        page.screenshot(path=str(SCREENSHOTS / "quiz_question.png"), full_page=True)
        if page.locator("#options label").count():
            page.locator("#options label").first.click()
        else:
            box.fill("Queries are compared with keys, a softmax turns scores into weights, values are averaged.")
            box.press("Enter")
        page.wait_for_function("() => document.querySelector('#chat').innerText.includes('Q2/5')", timeout=120_000)
        page.wait_for_function(
            "() => !document.querySelector('#sidebar').innerText.includes('w1.attention · 15%')", timeout=60_000
        )
        page.screenshot(path=str(SCREENSHOTS / "quiz_feedback.png"), full_page=True)
        page.reload(wait_until="domcontentloaded")
        page.locator("#message textarea").wait_for(timeout=60_000)
        page.wait_for_function(
            "() => document.querySelector('#chat').innerText.includes('what is multi-head attention?')",
            timeout=30_000,
        )
        page.wait_for_timeout(1000)
        page.screenshot(path=str(SCREENSHOTS / "after_reload.png"), full_page=True)
        history = page.locator("#chat").inner_text()
        assert "03_multi_head_attention.md#" in history and "Q2/5" in history  # conversation and open quiz
        side = page.locator("#sidebar").inner_text()
        assert "Data Scientists" in side and "w1.attention · 15%" not in side  # progress survives the reload
        browser.close()
