"""The teaching core: reading follow-ups, routing, moves over real lesson passages, checks, guided lessons,
and a history that fits the model. Real lessons and real MiniLM; the chat model is a fake."""

from __future__ import annotations

import shutil

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from tests.conftest import fake_model
from tutor.agent.checks import cloze_check, grade_check, looks_like_answer
from tutor.agent.graph import route_by_intent
from tutor.agent.intents import classify, code_in, code_to_run, track_change
from tutor.teaching.dialogue import read_message, subject_phrase
from tutor.teaching.passages import get_passage_index, split_blocks

ATTENTION = "01_transformer_architecture/02_attention_mechanism.md"
SAMPLING = "03_prompt_engineering/04_sampling_parameters.md"


@pytest.fixture
def indexed_session(session_factory, index_dir, data_dir):
    shutil.copytree(index_dir, data_dir, dirs_exist_ok=True)
    session = session_factory(fake_model("Hi there! Ask me about the course."))
    session.learners.update_profile("ann", track="data_scientist", strategy="theory_first")
    return session


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what is attention?", "explain"),
        ("explain attention", "explain"),
        ("explain what a quiz on attention would cover", "explain"),
        ("quiz me on week 2", "quiz"),
        ("could you execute this for me: print(sum(range(10)))", "run"),
        ("please evaluate 3**4 in python", "run"),
        ("am I making any progress?", "progress"),
        ("which lesson comes next for me?", "next"),
        ("switch me to the researcher track", "track"),
        ("teach me attention", "learn"),
        ("check my understanding", "check"),
        ("thanks, that helped", "chat"),
        ("hello, who are you?", "chat"),
        ("open the lesson on tokenization", "lesson"),
    ],
)
def test_intents_need_their_own_words(text, intent):
    assert classify(text) == intent


def test_asking_to_explain_never_starts_a_quiz():
    for text in ("What is attention?", "explain attention", "what would a quiz on RAG ask?", "how are tests graded"):
        assert route_by_intent(text)["route"] != "quiz_start", text


def test_run_requests_keep_only_the_code_and_track_changes_name_the_track():
    assert code_to_run("please evaluate 3**4 in python") == "3**4"
    assert code_to_run("run the example") is None
    assert track_change("switch me to the researcher track") == ("ml_researcher", None)
    assert route_by_intent("switch me to the researcher track")["command"] == "/track ml_researcher"


def test_follow_ups_keep_the_topic_and_new_questions_do_not():
    assert read_message("can you explain that more simply?", has_topic=True).move == "simpler"
    assert read_message("can you explain that more simply?", has_topic=True).follow_up
    assert read_message("Give me an example with numbers.", has_topic=True).move == "example"
    assert read_message("I don't get it.", has_topic=True).move == "simpler"
    assert read_message("why?", has_topic=True).move == "why"
    assert read_message("and top-p?", has_topic=True).follow_up
    assert read_message("how do I avoid it?", has_topic=True).move == "misconception"
    new = read_message("How does LoRA reduce the number of trainable parameters?", has_topic=True)
    assert not new.follow_up and new.move == "explain"
    assert read_message("What's the capital of France?", has_topic=True).off_topic
    assert (
        subject_phrase("also, how do I stop my GAN from mode collapsing?")
        == "how to stop your GAN from mode collapsing"
    )


def test_passages_keep_code_fences_whole():
    blocks = split_blocks("Intro line.\n\n```python\nx = 1\n\ny = 2\n```\n\nAfter.")
    assert blocks == ["Intro line.", "```python\nx = 1\n\ny = 2\n```", "After."]
    index = get_passage_index()
    roles = {p.role for p in index.by_lesson[ATTENTION]}
    assert {"intro", "intuition", "mechanism", "example", "code", "misconception", "selfcheck"} <= roles


def test_a_conversation_follows_the_topic(indexed_session):
    s = indexed_session
    first = s.run_turn("ann", "What is self-attention?")
    assert {c["source"] for c in first["citations"]} == {ATTENTION}
    assert len(first["answer"]) < 1600  # focused: a paragraph or two, not whole sections
    simpler = s.run_turn("ann", "can you explain that more simply?")
    assert {c["source"] for c in simpler["citations"]} == {ATTENTION} and simpler["move"] == "simpler"
    assert simpler["answer"] != first["answer"]
    example = s.run_turn("ann", "Give me an example with numbers.")
    assert {c["source"] for c in example["citations"]} == {ATTENTION} and example["move"] == "example"
    assert "*Next:*" in example["answer"]
    temp = s.run_turn("ann", "what does temperature do when sampling?")
    assert {c["source"] for c in temp["citations"]} == {SAMPLING}
    top_p = s.run_turn("ann", "and top-p?")
    assert {c["source"] for c in top_p["citations"]} == {SAMPLING} and "top-p" in top_p["answer"].lower()


def test_out_of_scope_and_off_topic_cite_nothing(indexed_session):
    s = indexed_session
    france = s.run_turn("ann", "What's the capital of France?")
    assert france["citations"] == [] and "tutor for LLMs" in france["answer"]
    gan = s.run_turn("ann", "how do I stop my GAN from mode collapsing?")
    assert gan["citations"] == [] and "does not cover" in gan["answer"]


def test_check_question_is_graded_and_moves_mastery(indexed_session):
    s = indexed_session
    s.run_turn("ann", "What is self-attention?")
    before = s.learners.mastery("ann").get("w1.attention", {}).get("p_known")
    asked = s.run_turn("ann", "check my understanding")
    assert "**Check:**" in asked["answer"] and asked["move"] == "check"
    graded = s.run_turn("ann", "a")
    assert graded["move"] == "graded" and graded["answer"][0] in "✅❌"
    after = s.learners.mastery("ann")["w1.attention"]["p_known"]
    assert after != before
    assert len(s.learners.attempts("ann")) == 1


def test_a_question_instead_of_an_answer_is_not_graded(indexed_session):
    s = indexed_session
    s.run_turn("ann", "What is self-attention?")
    s.run_turn("ann", "check my understanding")
    s.run_turn("ann", "wait, what does the softmax do here?")
    assert s.learners.attempts("ann") == []


def test_cloze_checks_are_answerable_and_graded():
    index = get_passage_index()
    check = cloze_check(index, ATTENTION, "masking-causal-and-padding-masks", [])
    assert check is not None and len(check["options"]) >= 3 and "_____" in check["prompt"]
    assert looks_like_answer(check, check["answer"]) and not looks_like_answer(check, "what is a mask?")
    assert grade_check(check, check["answer"])["correct"]
    wrong = next(o[0] for o in check["options"] if o[0] != check["answer"])
    assert not grade_check(check, wrong)["correct"]


def test_guided_lesson_walks_sections_and_records_progress(indexed_session):
    s = indexed_session
    start = s.run_turn("ann", "teach me positional encoding")
    assert "Section 1/" in start["answer"]
    dialogue = s.graph.get_state(s.config("ann")).values["dialogue"]
    while not dialogue.get("check"):  # sections without a check question: "next"
        s.run_turn("ann", "next")
        dialogue = s.graph.get_state(s.config("ann")).values["dialogue"]
    check = dialogue["check"]
    right = check.get("answer") or _bank_key(check["item"])
    wrong = next(o[0] for o in check["options"] if o[0] != right)
    retry = s.run_turn("ann", wrong)
    assert retry["answer"].startswith("❌") and "another way" in retry["answer"]
    dialogue = s.graph.get_state(s.config("ann")).values["dialogue"]
    if dialogue.get("check"):
        key = dialogue["check"].get("answer") or _bank_key(dialogue["check"]["item"])
        moved = s.run_turn("ann", key)
        assert moved["answer"].startswith("✅")
    progress = s.learners.get("ann")["profile"]["guided"]
    assert "01_transformer_architecture/04_positional_encoding.md" in progress


def _bank_key(item_id: str) -> str:
    from tools.quiz.bank import get_item

    return get_item(item_id).answer


def test_first_message_of_a_new_learner_is_answered_and_intake_offered(index_dir, data_dir, session_factory):
    shutil.copytree(index_dir, data_dir, dirs_exist_ok=True)
    s = session_factory(fake_model("unused"))
    events = list(s.stream_turn("newbie", "What is attention?", interactive=True))
    message = next(e for e in events if e.kind == "message")
    assert "Set up my plan" in message.text and message.data["citations"]
    assert s.pending_question("newbie") is None


def test_history_is_trimmed_by_tokens_and_never_fails(settings):
    from tutor.agent.context import Context
    from tutor.agent.history import fit_history

    ctx = Context(model=fake_model("x"), settings=settings, learners=None, embedded=True)
    long = [m for i in range(40) for m in (HumanMessage(f"question {i} " + "word " * 300), AIMessage("ok " * 300))]
    kept = fit_history(long, SystemMessage("system"), ctx)
    assert kept and isinstance(kept[0], HumanMessage) and len(kept) < len(long)
    huge = fit_history([HumanMessage("token " * 20000)], SystemMessage("system"), ctx)
    assert len(huge) == 1 and len(huge[0].text) < 20000 * 6


def test_the_intent_examples_share_no_message_with_the_routing_eval():
    """The classifier is trained on its own examples; the eval's phrasings must stay unseen."""
    import yaml

    from evals.tool_use import DATASET
    from tutor.agent.intent_model import load_examples

    texts, labels = load_examples()
    seen = {t.strip().lower() for t in texts}
    cases = yaml.safe_load(DATASET.read_text())["cases"]
    assert not [c["text"] for c in cases if c["text"].strip().lower() in seen]
    assert len(texts) >= 600 and set(labels) >= {"explain", "quiz", "run", "check", "chat", "track"}


def test_an_unsure_or_impossible_action_falls_back_to_an_explanation(monkeypatch):
    from tutor.agent import intent_model
    from tutor.agent.intent_model import Prediction

    class Stub:
        def __init__(self, label, confidence):
            self.prediction = Prediction(label, confidence)

        def predict(self, text, vector=None):
            return self.prediction

    monkeypatch.setattr(intent_model, "get_intent_model", lambda: Stub("quiz", 0.3))
    assert classify("quiz me on attention") == "explain"  # below the floor
    monkeypatch.setattr(intent_model, "get_intent_model", lambda: Stub("quiz", 0.9))
    assert classify("quiz me on attention") == "quiz"
    assert classify("what is attention?") == "explain"  # no quiz word: never a quiz
    monkeypatch.setattr(intent_model, "get_intent_model", lambda: Stub("run", 0.9))
    assert classify("how do I run a model on a GPU?") == "explain"  # nothing to run
    monkeypatch.setattr(intent_model, "get_intent_model", lambda: Stub("track", 0.9))
    assert classify("I want something else") == "explain"  # names no track
    monkeypatch.setattr(intent_model, "get_intent_model", lambda: Stub("chat", 0.9))
    assert classify("do you like pizza?") == "explain"  # the teaching node redirects it
    assert classify("hello, who are you?") == "chat"


def test_run_requests_carry_their_code_in_backticks_or_after_a_colon():
    assert code_in("does `[i*i for i in range(5)]` work? execute it") == "[i*i for i in range(5)]"
    assert code_in("try this one: sum(range(10))") == "sum(range(10))"
    assert code_in("how do I run a model on a GPU?") is None


def test_course_words_in_compounds_and_inflections_are_known():
    from tutor.teaching.moves import known

    index = get_passage_index()
    vocabulary, text = index.vocabulary, index.text
    assert known("papers", vocabulary) and known("bert-type", vocabulary) and known("gpt-2", vocabulary)
    assert known("repair-and-retry", vocabulary, text)
    assert not known("text-to-speech", vocabulary, text)  # each part is a course word, the compound is not
    assert known("llm-written", vocabulary, text)  # a course word qualified by a participle: a description


def test_everyday_two_letter_acronyms_are_not_distinctive_but_longer_ones_are():
    from tutor.teaching.dialogue import content_words
    from tutor.teaching.moves import unknown_terms

    index = get_passage_index()
    ui = "how could rendering a markdown image in the chat UI leak a user's conversation?"
    assert unknown_terms(ui, index.vocabulary, content_words(ui), index.text)[1] == []
    gan = "also, how do I stop my GAN from mode collapsing?"
    assert unknown_terms(gan, index.vocabulary, content_words(gan), index.text)[1] == ["gan"]


def test_a_close_learner_question_means_covered_even_when_no_passage_is_close():
    from tutor.agent.teach import QUESTION_SCOPE_SURE, SCOPE_FLOOR, covered

    index = get_passage_index()
    strawberry = "why can't the model count the r's in strawberry?"  # a fact inside a list item
    assert covered(index, strawberry, coverage=SCOPE_FLOOR - 0.05, asked=QUESTION_SCOPE_SURE + 0.05)
    assert not covered(index, strawberry, coverage=SCOPE_FLOOR - 0.05, asked=QUESTION_SCOPE_SURE - 0.2)
    speech = "how do text-to-speech models clone a voice?"  # close questions, but a term the course never uses
    assert not covered(index, speech, coverage=0.55, asked=QUESTION_SCOPE_SURE + 0.15)


def test_a_word_the_course_uses_in_one_section_points_at_it():
    from tutor.agent.teach import RARE_BONUS, rare_term_bonus

    index = get_passage_index()
    bonus = rare_term_bonus(index, "why do LLMs mess up counting the r's in strawberry?")
    strawberry = set(index.sections_using("strawberry"))
    assert strawberry and all(bonus[c] == pytest.approx(RARE_BONUS / len(strawberry)) for c in strawberry)
    assert rare_term_bonus(index, "how does attention work?") == {}  # a word of many sections points nowhere


def test_a_follow_up_with_a_clear_subject_of_its_own_leaves_the_old_lesson(indexed_session):
    s = indexed_session
    s.run_turn("ann", "what does temperature do when sampling?")
    turn = s.run_turn("ann", "what's catastrophic forgetting? does it apply here?")
    assert {c["source"] for c in turn["citations"]} == {"06_fine_tuning/01_fine_tuning_methods.md"}
    bare = s.run_turn("ann", "and how do I avoid it?")  # a bare follow-up stays on the new topic
    assert {c["source"] for c in bare["citations"]} == {"06_fine_tuning/01_fine_tuning_methods.md"}


def test_related_recommends_one_lesson_with_what_it_teaches():
    from tutor.teaching.moves import related_lesson

    index = get_passage_index()
    chunking = "04_rag_systems/03_chunking_strategies.md"
    assert related_lesson(index, chunking, forward=True) == "04_rag_systems/04_hybrid_search_and_reranking.md"
    last_of_module = "06_fine_tuning/02_instruction_tuning_and_alignment.md"
    assert related_lesson(index, last_of_module).startswith("06_fine_tuning/")  # the module, not the next module
    assert related_lesson(index, index.order[-1], forward=True) is None


def test_next_section_reaches_the_misconceptions_then_ends(indexed_session):
    from tutor.teaching.moves import next_section

    index = get_passage_index()
    lesson = index.by_lesson[ATTENTION]
    teaching = [p.anchor for p in lesson if p.role in ("intro", "intuition", "mechanism", "example", "code")]
    after_last = next_section(index, ATTENTION, teaching[-1])
    assert after_last and after_last[0].anchor == "common-misconceptions"
    assert next_section(index, ATTENTION, "common-misconceptions") == []


def test_what_is_x_starts_where_the_course_introduces_x(indexed_session):
    turn = indexed_session.run_turn("ann", "What is self-attention?")
    assert {c["source"] for c in turn["citations"]} == {ATTENTION}  # not multi-head's self- vs cross-attention


def test_what_is_x_starts_early_only_where_a_passage_names_x():
    from tutor.teaching.moves import earliest
    from tutor.teaching.passages import Passage

    def passage(i: int, lesson: str, text: str) -> Passage:
        return Passage(i, lesson, lesson, "s", "Section", "mechanism", text, 0)

    index = get_passage_index()
    late, early = index.order[5], index.order[0]
    best = passage(0, late, "Sentence embeddings map a text to a vector.")
    near = passage(1, early, "Where RAG systems fail: retrieval misses the right chunk.")
    ranked = [(0.57, best), (0.55, near)]
    assert earliest(index, ranked, ["embedding"]) is best  # the earlier passage never names embeddings
    named = passage(2, early, "An embedding is a vector; RAG retrieves by embeddings.")
    assert earliest(index, [(0.57, best), (0.55, named)], ["embedding"]) is named


def test_what_is_x_behind_a_filler_or_style_request_is_a_definition():
    from tutor.agent.teach import is_definition

    assert is_definition("ok so what does self-attention actually do? plain words pls")
    assert is_definition("what is a KV cache?")
    assert not is_definition("what does the feed-forward part do? isn't attention enough?")
    assert not is_definition("what's the difference between BM25 and dense retrieval?")


def test_a_generic_demonstrative_refers_to_the_topic():
    reading = read_message("what are the usual ways these systems fail?", has_topic=True)
    assert reading.follow_up and reading.move == "misconception"
    named = read_message("what are the usual ways RAG systems fail?", has_topic=True)
    assert "rag" in named.subject  # a named subject is kept: the message may leave the lesson


def test_lesson_votes_favour_the_nearest_questions():
    import numpy as np

    from tutor.curriculum.section_questions import SectionQuestion
    from tutor.retrieval.questions import QuestionIndex

    near = SectionQuestion("a.md", "x", "the question nearly the message")
    middling = [SectionQuestion("b.md", "y", f"middling {i}") for i in range(5)]
    index = QuestionIndex([near, *middling])
    vectors = np.array([[0.95, np.sqrt(1 - 0.95**2)]] + [[0.80, 0.6]] * 5, dtype=np.float32)
    index.__dict__["vectors"] = vectors  # the cached_property, set directly: no encoder needed
    votes = index.lesson_votes(np.array([1.0, 0.0], dtype=np.float32), n=6)
    assert votes["a.md"] > votes["b.md"]  # five middling neighbours do not outvote the nearest one
    assert abs(sum(votes.values()) - 1.0) < 1e-6  # all six above the floor: the whole vote is given
    assert index.lesson_votes(np.array([0.0, -1.0], dtype=np.float32)) == {}  # nothing near: no vote


def test_a_far_question_with_a_word_the_course_never_uses_is_not_covered(indexed_session):
    s = indexed_session
    s.run_turn("ann", "what does perplexity measure?")
    coffee = s.run_turn("ann", "brb coffee. what's a good espresso ratio btw?")
    assert coffee["citations"] == []
    vague = s.run_turn("ann", "what's a fairer way then?")  # course words only ("fairer" is "fair"): the topic
    assert {c["source"] for c in vague["citations"]} == {"08_evaluating_llms/01_evaluating_llms.md"}


def test_jargon_complaints_ask_for_it_simpler_and_off_topic_requests_are_redirected():
    from tutor.agent.intents import classify

    reading = read_message("too much jargon lol. can u explain that like im not an ml person", has_topic=True)
    assert reading.move == "simpler" and reading.follow_up
    assert classify("haha ok thanks. btw hows the weather where you are") == "explain"  # the one-line redirect
    assert classify("ok cool") == "chat" and classify("thanks!") == "chat"  # small talk stays with the model


def test_is_that_related_with_a_subject_the_course_never_names_is_a_new_question(indexed_session):
    s = indexed_session
    s.run_turn("ann", "how does CLIP classify images zero-shot?")
    gan = s.run_turn("ann", "side question, how do GANs generate images? is that related?")
    assert gan["citations"] == [] and gan.get("move") != "related"
    after = s.run_turn("ann", "what should I read after this?")  # the topic (CLIP) is still there
    assert after.get("move") == "related" and after["citations"]


def test_code_inside_a_sentence_is_not_run_and_prose_after_code_is_cut():
    loop = "while True: r = llm(msgs); if not r.calls: break; msgs += [r, run(r.calls[0])]"
    agent_loop = f"here's my loop: `{loop}` — what's missing?"
    assert code_to_run(agent_loop) is None  # "run(" inside the learner's code is not a request to run the rest
    assert route_by_intent(agent_loop, has_topic=True)["route"] == "teach"
    assert code_to_run("compute the grpo advantages for a group with rewards [1, 0, 0, 0]") is None  # prose
    assert code_to_run("run print(2 + 2) and tell me what it shows") == "print(2 + 2)"


def test_a_bare_quiz_request_inside_a_conversation_checks_the_current_topic():
    for text in ("ok quiz me", "pop quiz pls", "give me a quick quiz on this", "quiz me on this"):
        assert route_by_intent(text, has_topic=True)["route"] == "check", text
        assert route_by_intent(text, has_topic=False)["route"] != "check", text  # no topic: the week's quiz
    named = route_by_intent("quiz me on batching and the paged attention thing", has_topic=True)
    assert named == {"route": "quiz_start", "command": "/quiz topic batching and the paged attention thing"}


def test_asides_go_to_the_teaching_node_and_lesson_links_are_related():
    for text in ("off topic, any tips for 4 days in lisbon? going next month",
                 "lol unrelated but who won the champions league this year"):  # fmt: skip
        assert route_by_intent(text, has_topic=True)["route"] == "teach", text  # not /next, not free chat
    assert read_message("which other lessons build on the tokenizer stuff?", has_topic=True).move == "related"
    assert read_message("ok what's next after monitoring", has_topic=True).move == "next_section"
    lost = read_message("ok still kinda lost lol. explain it like ur talking to my mom", has_topic=True)
    assert lost.move == "simpler" and lost.follow_up


def test_a_long_description_of_the_learners_setting_is_still_covered():
    from tutor.agent.teach import covered

    index = get_passage_index()
    setting = ("practical q: we need to pull drug names out of ~5M clinical notes a night, cpu only. which kind "
               "of model do i want, an encoder or a generative one?")  # fmt: skip
    assert covered(index, setting, coverage=0.42, asked=0.45)
    assert not covered(index, "what's a good carbonara recipe without cream?", coverage=0.26, asked=0.27)
    assert not covered(index, "how do state space models like mamba work?", coverage=0.56, asked=0.46)


def test_the_small_model_makes_small_talk_from_the_last_message_alone(session_factory, index_dir, data_dir):
    """Quoted course sections in its prompt made the 135M model ramble ("I am a human ..."): it gets none."""
    shutil.copytree(index_dir, data_dir, dirs_exist_ok=True)
    model = fake_model("Glad it helped!")
    session = session_factory(model)
    session.run_turn("bo", "what is attention?")
    thanks = session.run_turn("bo", "thanks, that helped")
    assert thanks["answer"].startswith("Glad it helped!")
    prompt = model.prompts[-1]
    assert [type(m).__name__ for m in prompt] == ["SystemMessage", "HumanMessage"]
    assert prompt[-1].text == "thanks, that helped"


def test_the_learned_move_reader_takes_short_follow_ups_the_patterns_miss():
    from tutor.teaching.dialogue import read_in_conversation

    assert read_message("tldr version pls", has_topic=True).move == "explain"  # no pattern names it
    for text, move in (("tldr version pls", "simpler"),
                       ("ok that was a lot lol. can u explain it like im 10", "simpler"),
                       ("think i finally got attention down, whats the next lesson", "next_lesson"),
                       ("cool, continue with the rest of this one", "next_section")):  # fmt: skip
        reading = read_in_conversation(text, has_topic=True)
        assert (reading.move, reading.follow_up) == (move, True), text
    # without a topic, or with a subject of its own, it stays a question
    assert read_in_conversation("tldr version pls", has_topic=False).move == "explain"
    assert not read_in_conversation("different thing: what's an error budget", has_topic=True).follow_up
    assert read_in_conversation("does the order of the examples matter?", has_topic=True).move == "explain"


def test_a_check_on_this_stuff_is_one_question_and_an_unpunctuated_question_is_not_small_talk():
    assert route_by_intent("test me on this stuff", has_topic=True)["route"] == "check"  # not the week's quiz
    assert route_by_intent("test me on this stuff", has_topic=False)["route"] == "quiz_start"
    assert classify("lol random but do u think openai is gonna go public this year") == "explain"
    belief = read_message("i got 95% accuracy so its great right? (like 90% of the reviews are positive btw)", True)
    assert belief.move == "misconception"


def test_done_with_the_lesson_gets_the_next_lesson(indexed_session):
    s = indexed_session
    s.run_turn("bo", "What is self-attention?")
    after = s.run_turn("bo", "ok done with that one. what's the lesson after it")
    assert after["move"] == "related"
    assert [c["source"] for c in after["citations"]] == ["01_transformer_architecture/03_multi_head_attention.md"]


def test_the_move_examples_share_no_message_with_the_conversation_evals():
    """The move reader is trained on its own examples; no turn of any conversation eval may be among them."""
    from evals import conversation
    from tutor.agent.intent_model import MOVE_EXAMPLES, load_examples

    texts, labels = load_examples(MOVE_EXAMPLES)
    seen = {t.strip().lower() for t in texts}
    turns = [t["say"] for split in ("tune", "holdout", "dev", "dev2", "dev3") for s in conversation.load(split)
             for t in s["turns"]]  # fmt: skip
    assert len(turns) > 500 and not [t for t in turns if t.strip().lower() in seen]
    assert len(texts) >= 700 and set(labels) >= {"simpler", "example", "why", "next_lesson", "other"}


def test_a_learner_waiting_for_the_model_is_told_so_and_the_note_gives_way_to_the_reply(
    session_factory, index_dir, data_dir, monkeypatch
):
    from tutor import llama_thread
    from tutor.ui import ChatTurn

    shutil.copytree(index_dir, data_dir, dirs_exist_ok=True)
    session = session_factory(fake_model("Hi there!"))
    monkeypatch.setattr(llama_thread, "busy", lambda: 3)  # three other learners' replies are being written
    events = list(session.stream_turn("cy", "hello there, who are you?"))
    assert events[0].kind == "status" and "3 other learners" in events[0].text
    turn = ChatTurn([], data_dir, "")
    for event in events:
        turn.add(event)
    assert [m["content"] for m in turn.history] == ["Hi there!"]  # the note was replaced by the reply
    monkeypatch.setattr(llama_thread, "busy", lambda: 0)
    assert all(e.kind != "status" for e in session.stream_turn("cy", "hello again, who are you?"))
