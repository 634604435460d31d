"""Rounds, answers, scores and commands through the core, on a real SQLite store."""
import asyncio

from bot.model import ChoiceAnswer, Command, Message, Ranking, Text
from bot.rounds import BASE_POINTS, MAX_SPEED_BONUS
from bot.model import QuestionMsg, UserRef
from tests.helpers import ADMIN, ALICE, BOB, CHAT, MOD, settle, until


async def say(core, user, name, args=""):
    return await core.handle(Command(CHAT, user, name, args))


def texts(replies):
    return " ".join(r.body for r in replies if isinstance(r, Text))


async def start_round(core, count=3, pack="choices"):
    before = len(core.outbox.of(QuestionMsg))
    replies = await say(core, ALICE, "quiz", f"{pack} {count}")
    assert "started a round" in texts(replies)
    await until(lambda: len(core.outbox.of(QuestionMsg)) > before)
    return core.outbox.last_question()


async def press(core, user, q, choice):
    replies = await core.handle(ChoiceAnswer(CHAT, user, q.round_id, q.index, choice))
    return texts(replies)


def wrong_choice(q):
    return next(i for i in range(len(q.choices)) if i != q.correct_index)


async def finish_question(core, clock, seconds=20):
    before = len(core.outbox.reveals())
    await clock.advance(seconds)
    await until(lambda: len(core.outbox.reveals()) > before)
    await settle()


async def test_round_scores_first_answer_speed_and_ranking(core, clock):
    q = await start_round(core, 1)
    await clock.advance(2)  # Alice answers after 2 of 20 seconds
    assert await press(core, ALICE, q, q.correct_index) == "Answer recorded."
    assert await press(core, ALICE, q, wrong_choice(q)) == "You already answered this question."
    await clock.advance(10)
    assert await press(core, BOB, q, wrong_choice(q)) == "Answer recorded."
    await finish_question(core, clock)
    reveal = core.outbox.reveals()[-1]
    assert reveal.winners == ("Alice",)
    assert reveal.quote and reveal.explanation
    ranking = core.outbox.rankings()[-1]
    alice_points = BASE_POINTS + round(MAX_SPEED_BONUS * 18 / 20)
    assert [(r.name, r.points) for r in ranking.rows] == [("Alice", alice_points), ("Bob", 0)]
    board = (await say(core, ADMIN, "leaderboard"))[0]
    assert [(r.name, r.points) for r in board.rows] == [("Alice", alice_points), ("Bob", 0)]


async def play_all(core, clock, user, count=3):
    """Answer every question of a round correctly as `user`."""
    await start_round(core, count, pack="mini")
    for i in range(count):
        await until(lambda: core.outbox.last_question().index == i)
        q = core.outbox.last_question()
        if q.kind == "typed":
            assert texts(await core.handle(Message(CHAT, user, "1941", addressed=True))) == "Answer recorded."
        else:
            assert await press(core, user, q, q.correct_index) == "Answer recorded."
        await finish_question(core, clock)


async def test_streaks_and_me(core, clock):
    await play_all(core, clock, ALICE)
    await play_all(core, clock, ALICE)
    q = await start_round(core, 1)
    await press(core, ALICE, q, wrong_choice(q))
    await finish_question(core, clock)
    me = texts(await say(core, ALICE, "me"))
    assert "Answered: 7" in me and "Correct: 6 (86%)" in me
    assert "Streak: 0 (best 6)" in me and "Rank here: #1" in me


async def test_one_round_per_chat_and_bad_counts(core, clock):
    assert "must be from 1 to 3" in texts(await say(core, ALICE, "quiz", "mini 10000"))
    assert "no pack 'nope'" in texts(await say(core, ALICE, "quiz", "nope"))
    assert "must be from 1 to 3" in texts(await say(core, ALICE, "quiz", "mini 0"))
    await start_round(core)
    assert "already running" in texts(await say(core, BOB, "quiz"))


async def test_answers_when_nothing_is_open_and_bad_answers(core, clock):
    assert "No question is open" in texts(await core.handle(Message(CHAT, ALICE, "Moscow", addressed=True)))
    assert await core.handle(Message(CHAT, ALICE, "just chatting")) == []
    q = await start_round(core, 1)
    long = texts(await core.handle(Message(CHAT, ALICE, "x" * 5000, addressed=True)))
    assert "too long" in long and "not counted" in long
    emoji = texts(await core.handle(Message(CHAT, ALICE, "🎉🔥🙂", addressed=True)))
    assert "could not find an answer" in emoji
    # Neither counted: Alice may still answer.
    assert await press(core, ALICE, q, q.correct_index) == "Answer recorded."


async def test_forged_and_stale_choice_answers_are_refused(core, clock):
    q = await start_round(core, 2)
    assert await press(core, ALICE, q, 99) in ("That is not one of this question's choices.",
                                              "This question is closed.")
    stale = ChoiceAnswer(CHAT, ALICE, q.round_id + 1, q.index, 0)
    assert texts(await core.handle(stale)) == "This question is closed."
    await finish_question(core, clock)
    assert await press(core, ALICE, q, 0) == "This question is closed."


async def test_stop_by_starter_or_moderator_only(core, clock):
    await start_round(core)
    assert "Only the member who started" in texts(await say(core, BOB, "stop"))
    assert core.quiz.current(CHAT) is not None
    await say(core, MOD, "stop")
    await until(lambda: core.outbox.rankings())
    assert core.quiz.current(CHAT) is None
    assert core.outbox.rankings()[-1].title.startswith("Round stopped by Moe")


async def test_help_shows_only_what_the_caller_may_run(core):
    member = texts(await say(core, ALICE, "help"))
    admin = texts(await say(core, ADMIN, "help"))
    assert "/quiz" in member and "/timer" not in member and "/pack load" not in member
    assert "/timer" in admin and "/pack load" in admin
    assert "for moderators only" in texts(await say(core, ALICE, "timer", "30"))
    assert "Unknown command /frobnicate" in texts(await say(core, ALICE, "frobnicate"))


async def test_timer_sets_question_seconds_per_chat(core, clock):
    assert "30 seconds" in texts(await say(core, MOD, "timer", "30"))
    assert "from 5 to 600" in texts(await say(core, MOD, "timer", "1"))
    q = await start_round(core, 1)
    assert q.seconds == 30


async def test_leaderboard_scopes(core, clock):
    await play_all(core, clock, ALICE, 1)
    for scope in ("", "week", "all", "global"):
        board = (await say(core, BOB, "leaderboard", scope))[0]
        assert isinstance(board, Ranking) and board.rows[0].name == "Alice"
    assert "Usage" in texts(await say(core, BOB, "leaderboard", "yesterday"))


async def test_concurrent_answers_each_counted_once(core, clock):
    q = await start_round(core, 1)
    users = [UserRef("test", f"u{i}", f"User {i}") for i in range(50)]
    presses = [press(core, u, q, q.correct_index) for u in users]
    presses += [press(core, users[0], q, q.correct_index) for _ in range(10)]
    replies = await asyncio.gather(*presses)
    assert replies.count("Answer recorded.") == 50
    assert replies.count("You already answered this question.") == 10
    await finish_question(core, clock)
    board = await core.store.board(None, None, 100)
    assert len(board) == 50 and all(r.answered == 1 for r in board)


async def test_locked_database_answer_is_refused_clearly_and_can_be_retried(tmp_path, packs, clock,
                                                                            monkeypatch):
    import sqlite3

    from bot.core import Core
    from storage.sqlite import SqliteStore
    from tests.helpers import RecordingOutbox
    monkeypatch.setattr("storage.sqlite.BUSY_TIMEOUT_MS", 50)
    store = await SqliteStore.open(tmp_path / "db.sqlite3")
    core = Core(store, packs, clock=clock, pause_seconds=0, seed=1)
    core.outbox = RecordingOutbox()
    core.delivery.register("test", core.outbox)
    await core.handle(Command(CHAT, ALICE, "me"))  # registers Alice before the lock
    try:
        q = await start_round(core, 1)
        blocker = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        assert "could not be saved" in await press(core, ALICE, q, q.correct_index)
        blocker.execute("ROLLBACK")
        blocker.close()
        assert await press(core, ALICE, q, q.correct_index) == "Answer recorded."
        await finish_question(core, clock)
        assert core.outbox.reveals()[-1].winners == ("Alice",)
    finally:
        await core.stop()
        await store.close()
