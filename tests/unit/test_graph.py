"""Graph wiring with a fake model: routing, the tool loop, persistence, bounds, isolation."""

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from tests.conftest import fake_model

CAPABLE = "openai/gpt-4o-mini"  # a non-embedded spec: the model itself answers and may call tools


def test_plain_turn_reaches_the_model_with_system_prompt(session_factory):
    model = fake_model("Attention lets each token look at every other token.")
    session = session_factory(model, model=CAPABLE)
    result = session.run_turn("ann", "What is attention?")
    assert result == {
        "answer": "Attention lets each token look at every other token.",
        "citations": [],
        "tools": [],
        "error": None,
        "move": "",
    }
    prompt = model.prompts[0]
    assert isinstance(prompt[0], SystemMessage) and "<learner_data>" in prompt[0].text
    assert isinstance(prompt[-1], HumanMessage) and prompt[-1].text == "What is attention?"


def test_tokens_stream_before_the_turn_ends(session_factory):
    session = session_factory(fake_model("one two three four"), model=CAPABLE)
    kinds = [e.kind for e in session.stream_turn("ann", "hi")]
    assert kinds.count("token") >= 4  # GenericFakeChatModel streams word by word
    assert "error" not in kinds


def test_commands_never_reach_the_model(session_factory):
    model = fake_model("should not be used")
    session = session_factory(model)
    result = session.run_turn("ann", "/help")
    assert "/lesson" in result["answer"]
    assert model.prompts == []
    result = session.run_turn("ann", "/nope")
    assert "Unknown command" in result["answer"]


def test_lesson_command_cites_the_section(session_factory):
    session = session_factory(fake_model("unused"))
    result = session.run_turn("ann", "/lesson 02_attention_mechanism")
    assert "02_attention_mechanism.md" in result["answer"]
    assert result["citations"] and result["citations"][0]["source"].endswith("02_attention_mechanism.md")


def test_tool_loop_with_a_capable_model(session_factory):
    call = AIMessage(
        "",
        tool_calls=[{"name": "open_lesson", "args": {"lesson": "02_attention_mechanism"}, "id": "c1"}],
    )
    model = fake_model(call, "Here is the outline of the attention lesson.")
    session = session_factory(model, model="openai/gpt-4o-mini")  # a non-embedded spec gets tools
    result = session.run_turn("ann", "Show me the attention lesson")
    assert result["tools"] == ["open_lesson"]
    assert result["answer"] == "Here is the outline of the attention lesson."
    assert result["citations"][0]["source"].endswith("02_attention_mechanism.md")
    second_prompt = model.prompts[1]
    tool_messages = [m for m in second_prompt if isinstance(m, ToolMessage)]
    assert tool_messages and "<course source=" in tool_messages[0].text


def test_embedded_model_gets_no_tool_loop(session_factory):
    call = AIMessage("", tool_calls=[{"name": "open_lesson", "args": {"lesson": "x"}, "id": "c1"}])
    session = session_factory(fake_model("plain answer", call))
    assert session.run_turn("ann", "hi")["tools"] == []


def test_conversation_survives_a_restart(session_factory):
    first = session_factory(fake_model("first answer"), model=CAPABLE)
    first.run_turn("ann", "first question")
    first.close()
    model = fake_model("second answer")
    second = session_factory(model, model=CAPABLE)
    history = second.history("ann")
    assert [m.text for m in history] == ["first question", "first answer"]
    second.run_turn("ann", "second question")
    assert [m.text for m in model.prompts[0][1:]] == ["first question", "first answer", "second question"]


def test_learners_do_not_share_conversations(session_factory):
    session = session_factory(fake_model("to ann", "to bob"), model=CAPABLE)
    session.run_turn("ann", "ann's secret question")
    session.run_turn("bob", "bob's question")
    assert all("ann" not in m.text for m in session.history("bob"))
    assert len(session.history("ann")) == 2


def test_history_is_trimmed_for_the_model(session_factory):
    replies = [f"answer {i}" for i in range(12)]
    model = fake_model(*replies)
    session = session_factory(model, history_messages=6, model=CAPABLE)
    for i in range(12):
        session.run_turn("ann", f"question {i}")
    last_prompt = model.prompts[-1]
    assert len(last_prompt) <= 1 + 6
    assert last_prompt[-1].text == "question 11"
    assert isinstance(last_prompt[1], HumanMessage)  # trimmed history starts on a learner turn


def test_oversized_and_empty_messages_are_refused_clearly(session_factory):
    model = fake_model("unused")
    session = session_factory(model, max_message_chars=100)
    events = list(session.stream_turn("ann", "x" * 101))
    assert [e.kind for e in events] == ["error"] and "TUTOR_MAX_MESSAGE_CHARS" in events[0].text
    assert session.run_turn("ann", "   ")["error"] == "Please type a message."
    assert model.prompts == [] and session.history("ann") == []


def test_a_failing_model_is_reported_and_the_session_goes_on(session_factory):
    class Broken(type(fake_model())):
        def _generate(self, *a, **k):
            raise ConnectionError("server went away")

        def _stream(self, *a, **k):
            raise ConnectionError("server went away")

    session = session_factory(Broken(messages=iter([])), model=CAPABLE)
    result = session.run_turn("ann", "hello")
    assert "server went away" in result["error"]
    session.model = fake_model("back again")
    assert session.run_turn("ann", "hello again")["answer"] == "back again"


def test_load_learner_records_the_learner(session_factory):
    session = session_factory(fake_model("hi"))
    session.run_turn("ann", "hello")
    learner = session.learners.get("ann")
    assert learner is not None and learner["id"] == "ann"
    assert session.learners.get("bob") is None


def test_intake_places_the_learner_and_progress_survives_a_restart(session_factory):
    session = session_factory(fake_model("unused"))
    events = list(session.stream_turn("ann", "/start", interactive=True))
    assert events[-1].kind == "interrupt" and "(1/6)" in events[-1].text
    assert events[-1].data["options"][0] == "Software engineer / developer"
    assert session.run_turn("ann", "I write production code daily")["answer"].startswith("(2/6)")  # typed text
    session.run_turn("ann", "no idea what to say")  # unmatched: asked again
    assert "couldn't match" in session.pending_question("ann")["question"]
    for answer in ["skip", "skip", "Ship LLM features to production", "2", "practice"]:
        result = session.run_turn("ann", answer)
    assert "Your track" in result["answer"]
    before = session.learners.get("ann")["profile"]
    session.close()
    again = session_factory(fake_model("unused"))
    assert again.learners.get("ann")["profile"] == before  # restart: same profile and plan
    assert again.pending_question("ann") is None
    assert "Track:" in again.run_turn("ann", "/progress")["answer"]


def test_track_override_and_next(session_factory):
    session = session_factory(fake_model("unused"))
    session.learners.update_profile("ann", track="software_engineer", strategy="practice_first")
    assert "ML Researchers" in session.run_turn("ann", "/track ml_researcher")["answer"]
    assert session.learners.get("ann")["profile"]["overrides"]
    assert "unknown track" in session.run_turn("ann", "/track wizard")["answer"]
    assert "Week 1" in session.run_turn("ann", "/next")["answer"]


def test_ask_never_starts_the_intake(session_factory):
    session = session_factory(fake_model("an answer"), model=CAPABLE)
    assert session.run_turn("new", "what is attention?")["answer"] == "an answer"


def test_a_failing_tool_call_is_explained_and_the_model_answers(session_factory):
    bad = AIMessage("", tool_calls=[{"name": "open_lesson", "args": {"lesson": "no-such-lesson-xyz"}, "id": "c9"}])
    model = fake_model(bad, "That lesson does not exist; try /lesson to list them.")
    session = session_factory(model, model=CAPABLE)
    result = session.run_turn("ann", "open the lesson on quantum knitting")
    assert result["tools"] == ["open_lesson"] and result["error"] is None
    tool_messages = [m for m in model.prompts[1] if isinstance(m, ToolMessage)]
    assert "No lesson matches" in tool_messages[0].text  # a plain-words failure the model can relay


def test_invalid_tool_arguments_do_not_crash_the_turn(session_factory):
    bad = AIMessage("", tool_calls=[{"name": "search_curriculum", "args": {"query": ""}, "id": "c1"}])
    model = fake_model(bad, "Please tell me what to look for.")
    session = session_factory(model, model=CAPABLE)
    result = session.run_turn("ann", "search")
    assert result["error"] is None and result["answer"] == "Please tell me what to look for."
    assert "non-empty query" in next(m for m in model.prompts[1] if isinstance(m, ToolMessage)).text
