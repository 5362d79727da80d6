"""The web UI answers: through gradio_client (the API) and in a real headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

pytestmark = pytest.mark.slow


def test_gradio_client_gets_an_answer(served_app):
    from gradio_client import Client

    url, session = served_app
    client = Client(url, verbose=False)
    # the first call without a code creates a learner and returns its signed code
    history, textbox, code, *_ = client.predict("/help", "", api_name="/chat")
    learner = session.identity.learner(code)
    assert textbox == "" and learner and learner.startswith("browser:")
    assert history[-1]["role"] == "assistant" and "/lesson" in str(history[-1]["content"])
    # a learner without a track gets the question answered and the intake offered, never forced
    history, *_ = client.predict("What is a token?", code, api_name="/chat")
    assert "Set up my plan" in str(history[-1]["content"]) and "(1/6)" not in str(history[-1]["content"])
    history, *_ = client.predict("/start", code, api_name="/chat")
    assert "(1/6)" in str(history[-1]["content"])
    for answer in ["Software engineer / developer", "2", "4", "ship", "skip", "practice"]:
        history, *_ = client.predict(answer, code, api_name="/chat")
    assert "Your track: Software Engineers" in str(history[-1]["content"])
    history, *_ = client.predict("What is a token?", code, api_name="/chat")
    assert history[-1]["role"] == "assistant" and str(history[-1]["content"]).strip()
    assert session.learners.get(learner)["profile"]["track"] == "software_engineer"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is installed by `make test`")
def test_browser_types_a_message_and_sees_the_answer_after_reload(served_app):
    from playwright.sync_api import sync_playwright

    url, session = served_app
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="domcontentloaded")

        def learner_id() -> str:  # the browser's id is stored encrypted: take the newest browser learner
            rows = [(i,) for i in session.learners.learner_ids("browser:")]
            return rows[0][0]

        box = page.locator("#message textarea")
        box.wait_for(timeout=60_000)
        assert "embedded" in page.locator("#model-label").inner_text()
        bots = "document.querySelectorAll('#chat [data-testid=bot]')"

        def wait_text(text: str, where: str = "#chat", timeout: int = 120_000) -> None:
            page.wait_for_function(
                f"() => document.querySelector({where!r}).innerText.includes({text!r})", timeout=timeout
            )

        def click_option(label: str) -> None:
            before = page.evaluate(f"() => {bots}.length")
            page.locator("#options label", has_text=label).first.click()
            page.wait_for_function(f"() => {bots}.length > {before}", timeout=120_000)
            page.wait_for_timeout(1500)

        # first visit: a question typed before the intake is answered, with quick replies for the next move
        wait_text("Set up my plan")
        box.fill("What is attention?")
        box.press("Enter")
        wait_text("02_attention_mechanism.md")
        page.locator("#options label", has_text="Explain more simply").wait_for(timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / "first_question.png"), full_page=True)
        click_option("Explain more simply")
        wait_text("Put more simply")
        click_option("Show me an example")
        wait_text("A worked example")
        page.screenshot(path=str(SCREENSHOTS / "example.png"), full_page=True)
        box.fill("/start")
        box.press("Enter")
        wait_text("(1/6)", timeout=60_000)
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

        # a guided lesson: one check answered wrong (re-explained), then right; the sidebar's lesson bar moves
        send("teach me positional encoding", wait_for="Section 1/")
        while not (session.graph.get_state(session.config(learner_id())).values["dialogue"] or {}).get("check"):
            send("next")
        check = session.graph.get_state(session.config(learner_id())).values["dialogue"]["check"]
        key = check.get("answer") or _bank_key(check["item"])
        wrong = next(o for o in check["options"] if o[0] != key)
        click_option(wrong)
        wait_text("another way")
        check = session.graph.get_state(session.config(learner_id())).values["dialogue"]["check"]
        right = next(o for o in check["options"] if o[0] == (check.get("answer") or _bank_key(check["item"])))
        click_option(right)
        wait_text("✅")
        wait_text("sections", where="#sidebar", timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / "guided.png"), full_page=True)
        send("what is multi-head attention?", wait_for="03_multi_head_attention.md#")
        page.screenshot(path=str(SCREENSHOTS / "explain.png"), full_page=True)
        assert "03_multi_head_attention.md#" in page.locator("#chat").inner_text()  # cited course text
        send("run print(2+2)", wait_for="4")
        assert "**ok**" in page.locator("#chat").inner_text() or "ok ·" in page.locator("#chat").inner_text()
        send("/run import matplotlib.pyplot as plt; plt.plot([1, 3, 2]); plt.show()")
        page.wait_for_selector("#chat img", timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "run_plot.png"), full_page=True)
        assert re.search(r"w1\.attention · \d+%", page.locator("#sidebar").inner_text())
        send("/quiz w1.attention", wait_for="Q1/5")
        page.screenshot(path=str(SCREENSHOTS / "quiz_question.png"), full_page=True)
        if page.locator("#options label").count():
            page.locator("#options label").first.click()
        else:
            box.fill("Queries are compared with keys, a softmax turns scores into weights, values are averaged.")
            box.press("Enter")
        page.wait_for_function("() => document.querySelector('#chat').innerText.includes('Q2/5')", timeout=120_000)
        attempts = len(session.learners.attempts(learner_id()))
        assert attempts >= 2  # the guided check and the quiz answer were both recorded
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
        assert "Data Scientists" in side and "w1.attention" in side  # progress survives the reload
        assert len(session.learners.attempts(learner_id())) == attempts
        browser.close()


def _bank_key(item_id: str) -> str:
    from tools.quiz.bank import get_item

    return get_item(item_id).answer
