"""The embedded model's path: intents pick the route; explanations quote and cite the course."""

from tests.conftest import fake_model
from tutor.agent.explain import FALLBACK, choose_sections, explain, grounded
from tutor.agent.graph import route_by_intent
from tutor.retrieval.search import Hit


def hit(anchor: str, text: str, score: float = 0.03) -> Hit:
    return Hit("01_x/02_y.md", anchor, f"Lesson > {anchor}", text, score, "lesson", 1, "01_x")


HITS = [
    hit("intuition", "Positional encodings tell the model where each token sits, because attention ignores order."),
    hit("formula", "PE(pos, 2i) = sin(pos / 10000^(2i/d)) gives each position a unique pattern.", 0.029),
    hit("code", "```python\nimport numpy as np\npe = np.zeros((8, 4))\n```", 0.028),
]


def test_routes_chosen_by_intent():
    assert route_by_intent("run print(2+2)") == {"route": "run"}
    assert route_by_intent("show my progress") == {"route": "command", "command": "/progress"}
    assert route_by_intent("what should I do next?") == {"route": "command", "command": "/next"}
    assert route_by_intent("switch my track to data scientist") == {
        "route": "command",
        "command": "/track data_scientist",
    }
    assert route_by_intent("quiz me on week 1") == {"route": "quiz_start"}
    assert route_by_intent("what is multi-head attention?") == {"route": "explain"}


def test_grounding_check_keeps_connective_text_and_drops_invented_facts():
    sources = " ".join(h.text for h in HITS)
    question = "what is positional encoding?"
    assert grounded("Great question about positional encoding, let's look at what the course says.", question, sources)
    assert not grounded("Positional encoding was invented by Google in 1997.", question, sources)
    assert not grounded("Positional encoding uses quantum entanglement.", question, sources)


def test_explanation_quotes_cited_sections_and_never_shows_ungrounded_framing():
    model = fake_model("Positional encoding was invented by Google in 1997.")
    text, chosen = explain("what is positional encoding?", model, lambda q: HITS, "data_scientist")
    assert text.startswith(FALLBACK)
    assert "1997" not in text
    for h in chosen:
        assert f"`{h.citation}`" in text and h.text.splitlines()[0][:40] in text
    good = fake_model("Good question about positional encoding, let's see what the course says.")
    text, _ = explain("what is positional encoding?", good, lambda q: HITS, None)
    assert text.startswith("Good question about positional encoding")


def test_sections_adapt_to_the_track():
    assert choose_sections(HITS, "software_engineer", n=1)[0].anchor == "code"
    assert choose_sections(HITS, "ml_researcher", n=1)[0].anchor == "formula"
    assert choose_sections(HITS, "product_manager", n=1)[0].anchor == "intuition"


def test_no_hits_is_said_plainly():
    text, chosen = explain("zzz", fake_model("Sure."), lambda q: [], None)
    assert chosen == [] and "could not find" in text
