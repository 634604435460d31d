"""Ordered schema migrations. Append new ones; never edit one that has shipped."""

MIGRATIONS: list[tuple[int, str]] = [
    (1, """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_user_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        UNIQUE (platform, platform_user_id)
    );
    CREATE TABLE chats (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_chat_id TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        question_seconds REAL,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        UNIQUE (platform, platform_chat_id)
    );
    CREATE TABLE rounds (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats(id),
        thread_id TEXT,
        pack_id TEXT NOT NULL,
        started_by INTEGER NOT NULL REFERENCES users(id),
        question_ids TEXT NOT NULL,
        seed INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        started_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
        ended_at TEXT
    );
    CREATE INDEX rounds_open ON rounds (status) WHERE status = 'open';
    -- The primary key is what makes "one answer per user and question" hold
    -- even if two answers race past the in-memory check.
    CREATE TABLE answers (
        round_id INTEGER NOT NULL REFERENCES rounds(id),
        question_index INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        answer TEXT NOT NULL,
        correct INTEGER NOT NULL,
        points INTEGER NOT NULL,
        answered_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (round_id, question_index, user_id)
    ) WITHOUT ROWID;
    -- Totals are maintained with each answer so boards never scan answers.
    CREATE TABLE chat_totals (
        chat_id INTEGER NOT NULL REFERENCES chats(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        answered INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        points INTEGER NOT NULL DEFAULT 0,
        streak INTEGER NOT NULL DEFAULT 0,
        best_streak INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (chat_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX chat_totals_rank ON chat_totals (chat_id, points DESC);
    CREATE TABLE week_totals (
        chat_id INTEGER NOT NULL REFERENCES chats(id),
        week TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        answered INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        points INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (chat_id, week, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX week_totals_rank ON week_totals (chat_id, week, points DESC);
    CREATE TABLE user_totals (
        user_id INTEGER PRIMARY KEY REFERENCES users(id),
        answered INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        points INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX user_totals_rank ON user_totals (points DESC);
    """),
    (2, """
    CREATE TABLE discussions (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats(id),
        thread_id TEXT,
        pack_id TEXT NOT NULL,
        prompt_id TEXT NOT NULL,
        opened_at REAL NOT NULL,
        closes_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        message_id TEXT,
        result TEXT
    );
    -- One open discussion per chat, even if two /discuss race.
    CREATE UNIQUE INDEX discussions_one_open ON discussions (chat_id) WHERE status = 'open';
    CREATE INDEX discussions_recent ON discussions (chat_id, opened_at DESC);
    -- Platform names of a discussion's poll, thread and messages.
    CREATE TABLE discussion_refs (
        platform TEXT NOT NULL,
        ref TEXT NOT NULL,
        discussion_id INTEGER NOT NULL REFERENCES discussions(id),
        PRIMARY KEY (platform, ref)
    ) WITHOUT ROWID;
    CREATE TABLE discussion_votes (
        discussion_id INTEGER NOT NULL REFERENCES discussions(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        option INTEGER NOT NULL,
        PRIMARY KEY (discussion_id, user_id)
    ) WITHOUT ROWID;
    -- Who took part in the talk; never what they wrote.
    CREATE TABLE discussion_participants (
        discussion_id INTEGER NOT NULL REFERENCES discussions(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        PRIMARY KEY (discussion_id, user_id)
    ) WITHOUT ROWID;
    """),
    (3, """
    -- Our own table rather than APScheduler's SQLAlchemy job store: no second
    -- database layer, no pickled jobs that break when code changes, and the
    -- exactly-once mark (last_due) is claimed in one UPDATE before posting.
    CREATE TABLE schedules (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats(id),
        thread_id TEXT,
        kind TEXT NOT NULL,
        spec TEXT NOT NULL,
        args TEXT NOT NULL DEFAULT '',
        paused INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        last_due REAL
    );
    CREATE INDEX schedules_chat ON schedules (chat_id);
    """),
    (4, """
    -- Boards order by points, then correct answers, then user: with every key
    -- in the index a top 10 reads 10 rows instead of sorting all the ties.
    DROP INDEX chat_totals_rank;
    DROP INDEX week_totals_rank;
    DROP INDEX user_totals_rank;
    CREATE INDEX chat_totals_rank ON chat_totals (chat_id, points DESC, correct DESC, user_id);
    CREATE INDEX week_totals_rank ON week_totals (chat_id, week, points DESC, correct DESC, user_id);
    CREATE INDEX user_totals_rank ON user_totals (points DESC, correct DESC, user_id);
    """),
]
