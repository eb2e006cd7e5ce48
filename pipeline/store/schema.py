"""Numbered migrations, recorded in ``schema_migrations`` as they are applied.

Add a migration by appending a function ``mNNN_what(db)`` to ``MIGRATIONS``; never edit one
that has shipped.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from pipeline import defaults


def m001_initial(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE plans (
            name VARCHAR PRIMARY KEY,
            monthly_minutes INTEGER NOT NULL,
            max_video_minutes INTEGER NOT NULL
        );
        CREATE TABLE workspaces (
            name VARCHAR PRIMARY KEY,
            plan VARCHAR NOT NULL,
            webhook_url VARCHAR,
            created_at TIMESTAMP NOT NULL
        );
        CREATE TABLE jobs (
            job_id VARCHAR PRIMARY KEY,
            workspace VARCHAR NOT NULL,
            source_kind VARCHAR NOT NULL,      -- transcript | youtube | url | upload
            source VARCHAR NOT NULL,           -- URL, file name, or transcript file name
            options VARCHAR NOT NULL,          -- JobOptions as JSON
            dedupe_key VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            status_reason VARCHAR,
            error_code VARCHAR,
            title VARCHAR,
            duration_s DOUBLE,
            metadata VARCHAR,                  -- source metadata as JSON
            qa_score INTEGER,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        );
        CREATE TABLE job_runs (
            run_id VARCHAR PRIMARY KEY,
            job_id VARCHAR NOT NULL,
            seq INTEGER NOT NULL,
            start_step VARCHAR NOT NULL,
            reason VARCHAR,
            created_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP
        );
        CREATE SEQUENCE run_steps_id;
        CREATE TABLE run_steps (
            id BIGINT PRIMARY KEY DEFAULT nextval('run_steps_id'),
            run_id VARCHAR NOT NULL,
            job_id VARCHAR NOT NULL,
            step VARCHAR NOT NULL,
            attempt INTEGER NOT NULL,
            status VARCHAR NOT NULL,           -- scheduled | queued | running | done | failed | lost | cancelled
            error_code VARCHAR,
            error_message VARCHAR,
            queued_at TIMESTAMP NOT NULL,
            not_before TIMESTAMP,
            started_at TIMESTAMP,
            finished_at TIMESTAMP,
            worker VARCHAR,
            body_ms DOUBLE
        );
        CREATE TABLE artifacts (
            job_id VARCHAR NOT NULL,
            run_id VARCHAR NOT NULL,
            step VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            format VARCHAR NOT NULL,           -- json | text | markdown
            content VARCHAR NOT NULL,
            chars INTEGER NOT NULL,
            provider VARCHAR,
            model VARCHAR,
            prompt_name VARCHAR,
            prompt_version VARCHAR,
            tokens_in INTEGER,
            tokens_out INTEGER,
            cost_usd DOUBLE,
            latency_ms DOUBLE,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (run_id, step, kind)
        );
        CREATE TABLE draft_versions (
            job_id VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            title VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            posts VARCHAR,                     -- JSON list for X threads
            source VARCHAR NOT NULL,           -- generated | autofix | edit
            author VARCHAR NOT NULL,
            run_id VARCHAR,
            note VARCHAR,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (job_id, format, version)
        );
        CREATE SEQUENCE reviews_id;
        CREATE TABLE reviews (
            id BIGINT PRIMARY KEY DEFAULT nextval('reviews_id'),
            job_id VARCHAR NOT NULL,
            run_id VARCHAR,
            decision VARCHAR NOT NULL,         -- approved | rejected
            reason VARCHAR,
            editor VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        );
        CREATE SEQUENCE status_changes_id;
        CREATE TABLE status_changes (
            id BIGINT PRIMARY KEY DEFAULT nextval('status_changes_id'),
            job_id VARCHAR NOT NULL,
            run_id VARCHAR,
            from_status VARCHAR,
            to_status VARCHAR NOT NULL,
            move VARCHAR NOT NULL,
            reason VARCHAR,
            actor VARCHAR NOT NULL,
            changed_at TIMESTAMP NOT NULL
        );
        CREATE TABLE usage (
            run_id VARCHAR PRIMARY KEY,
            job_id VARCHAR NOT NULL,
            workspace VARCHAR NOT NULL,
            minutes DOUBLE NOT NULL,
            tokens_in BIGINT NOT NULL,
            tokens_out BIGINT NOT NULL,
            cost_usd DOUBLE NOT NULL,
            recorded_at TIMESTAMP NOT NULL
        );
        CREATE SEQUENCE run_logs_id;
        CREATE TABLE run_logs (
            id BIGINT PRIMARY KEY DEFAULT nextval('run_logs_id'),
            job_id VARCHAR NOT NULL,
            run_id VARCHAR NOT NULL,
            step VARCHAR NOT NULL,
            attempt INTEGER NOT NULL,
            logged_at TIMESTAMP NOT NULL,
            level VARCHAR NOT NULL,
            message VARCHAR NOT NULL
        );
        CREATE TABLE webhook_deliveries (
            run_id VARCHAR PRIMARY KEY,
            job_id VARCHAR NOT NULL,
            url VARCHAR NOT NULL,
            event_id VARCHAR NOT NULL,
            status VARCHAR NOT NULL,           -- sent | failed
            attempts INTEGER NOT NULL,
            response_code INTEGER,
            error VARCHAR,
            sent_at TIMESTAMP NOT NULL
        );
        """
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    for name, (monthly, max_video) in defaults.PLANS.items():
        con.execute("INSERT INTO plans VALUES (?, ?, ?)", [name, monthly, max_video])
    con.execute(
        "INSERT INTO workspaces VALUES (?, ?, NULL, ?)", [defaults.DEFAULT_WORKSPACE, defaults.DEFAULT_PLAN, now]
    )


def m002_experiments(con: duckdb.DuckDBPyConnection) -> None:
    """Prompt experiments and their cells, prompt labels (which version new runs use) with their
    history, and the prompt versions each run was pinned to. Run pins live in their own table
    rather than a column of ``job_runs`` so that inserts listing ``job_runs`` columns by position
    keep working."""
    con.execute(
        """
        CREATE TABLE experiments (
            experiment_id VARCHAR PRIMARY KEY,
            task VARCHAR NOT NULL,             -- insights | draft:<format> | qa_judge
            prompt_name VARCHAR NOT NULL,
            versions VARCHAR NOT NULL,         -- JSON list, in the order compared
            dataset VARCHAR NOT NULL,
            provider VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            baseline VARCHAR NOT NULL,         -- JSON: prompt versions that made the inputs and scored
            items INTEGER NOT NULL,
            note VARCHAR,
            created_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP
        );
        CREATE TABLE experiment_cells (
            experiment_id VARCHAR NOT NULL,
            version VARCHAR NOT NULL,
            item_id VARCHAR NOT NULL,
            item_title VARCHAR NOT NULL,
            status VARCHAR NOT NULL,           -- ok | error
            score INTEGER,                     -- the task's headline score, 0-100
            rule_score INTEGER,
            judge_score INTEGER,
            checks_passed INTEGER NOT NULL,
            checks_failed VARCHAR NOT NULL,    -- JSON list of check names
            risk_flags VARCHAR NOT NULL,       -- JSON list
            prompt_name VARCHAR,
            prompt_version VARCHAR,
            tokens_in INTEGER NOT NULL,
            tokens_out INTEGER NOT NULL,
            cost_usd DOUBLE NOT NULL,
            latency_ms DOUBLE NOT NULL,
            output VARCHAR,                    -- JSON of what the version produced
            output_text VARCHAR,               -- the same, as a reader sees it
            metrics VARCHAR NOT NULL,          -- JSON: task-specific measures
            error VARCHAR,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (experiment_id, version, item_id)
        );
        CREATE TABLE prompt_labels (
            prompt_name VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            version VARCHAR NOT NULL,
            promoted_by VARCHAR NOT NULL,
            experiment_id VARCHAR,
            note VARCHAR,
            promoted_at TIMESTAMP NOT NULL,
            PRIMARY KEY (prompt_name, label)
        );
        CREATE SEQUENCE prompt_label_history_id;
        CREATE TABLE prompt_label_history (
            id BIGINT PRIMARY KEY DEFAULT nextval('prompt_label_history_id'),
            prompt_name VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            version VARCHAR,                   -- NULL: the label was removed
            previous_version VARCHAR,
            changed_by VARCHAR NOT NULL,
            experiment_id VARCHAR,
            note VARCHAR,
            changed_at TIMESTAMP NOT NULL
        );
        CREATE TABLE run_prompts (
            run_id VARCHAR NOT NULL,
            prompt_name VARCHAR NOT NULL,
            version VARCHAR NOT NULL,
            label VARCHAR,                     -- the label it came from; NULL: the newest version
            pinned_at TIMESTAMP NOT NULL,
            PRIMARY KEY (run_id, prompt_name)
        );
        """
    )


def m003_webhook_signing(con: duckdb.DuckDBPyConnection) -> None:
    """Per-workspace webhook signing: the id the secret is derived from (pipeline.signing);
    the secret itself is never stored."""
    con.execute("ALTER TABLE workspaces ADD COLUMN webhook_key_id VARCHAR")


def m004_store_requests(con: duckdb.DuckDBPyConnection) -> None:
    """Answers of writing transactions by request id: a storekeeper client that lost an answer
    (a broken connection, a restart) asks again with the same id and gets the same answer."""
    con.execute(
        """
        CREATE TABLE store_requests (
            request_id VARCHAR PRIMARY KEY,
            transaction_name VARCHAR NOT NULL,
            answer BLOB NOT NULL,
            created_at TIMESTAMP NOT NULL
        );
        """
    )


def m005_voice_profiles(con: duckdb.DuckDBPyConnection) -> None:
    """A workspace's voice profile, every saved version kept (like prompt versions), and the
    version each run was pinned to (the run's provenance)."""
    con.execute(
        """
        CREATE TABLE voice_profiles (
            workspace VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            profile VARCHAR NOT NULL,          -- VoiceProfile as JSON
            saved_by VARCHAR NOT NULL,
            note VARCHAR,
            saved_at TIMESTAMP NOT NULL,
            PRIMARY KEY (workspace, version)
        );
        CREATE TABLE run_voices (
            run_id VARCHAR PRIMARY KEY,
            workspace VARCHAR NOT NULL,
            version INTEGER NOT NULL,          -- 0: the workspace had no voice profile
            pinned_at TIMESTAMP NOT NULL
        );
        """
    )


def m006_quota_reservations(con: duckdb.DuckDBPyConnection) -> None:
    """Plan minutes held for a job from the moment its length is known (a transcript at
    submission, media once validated or ingested) until it is delivered or ends: concurrent jobs
    cannot together use more than the plan has left."""
    con.execute(
        """
        CREATE TABLE quota_reservations (
            job_id VARCHAR PRIMARY KEY,
            workspace VARCHAR NOT NULL,
            minutes DOUBLE NOT NULL,
            reserved_at TIMESTAMP NOT NULL
        );
        """
    )


def m007_plan_exempt_jobs(con: duckdb.DuckDBPyConnection) -> None:
    """Jobs that do not count against their workspace's plan, and why (a bundled sample run).
    A table of its own rather than a column of ``jobs``, so inserts listing ``jobs`` columns by
    position keep working."""
    con.execute(
        """
        CREATE TABLE plan_exempt_jobs (
            job_id VARCHAR PRIMARY KEY,
            reason VARCHAR NOT NULL,           -- sample
            created_at TIMESTAMP NOT NULL
        );
        """
    )


def m008_people(con: duckdb.DuckDBPyConnection) -> None:
    """People and programs: users (the signed-in email is the identity), memberships with a role
    per workspace, invitations by email, per-workspace API keys (only a hash of the secret is
    kept), refused attempts, Idempotency-Key records, and who submitted each job (a creator may
    act on their own jobs). Existing jobs keep ``submitted_by`` from their first audit row."""
    con.execute(
        """
        CREATE TABLE users (
            email VARCHAR PRIMARY KEY,         -- lower case
            name VARCHAR,
            created_at TIMESTAMP NOT NULL,
            last_login_at TIMESTAMP
        );
        CREATE TABLE memberships (
            workspace VARCHAR NOT NULL,
            email VARCHAR NOT NULL,
            role VARCHAR NOT NULL,             -- owner | editor | creator | viewer
            added_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (workspace, email)
        );
        CREATE TABLE invitations (
            workspace VARCHAR NOT NULL,
            email VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            invited_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            accepted_at TIMESTAMP,
            PRIMARY KEY (workspace, email)
        );
        CREATE TABLE api_keys (
            key_id VARCHAR PRIMARY KEY,        -- the public part of the key, shown in lists
            workspace VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            secret_hash VARCHAR NOT NULL UNIQUE,  -- sha256 of the whole key; the key itself is never kept
            created_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            last_used_at TIMESTAMP,
            revoked_at TIMESTAMP,
            revoked_by VARCHAR
        );
        CREATE SEQUENCE access_refusals_id;
        CREATE TABLE access_refusals (
            id BIGINT PRIMARY KEY DEFAULT nextval('access_refusals_id'),
            actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            workspace VARCHAR,
            job_id VARCHAR,
            reason VARCHAR NOT NULL,
            refused_at TIMESTAMP NOT NULL
        );
        CREATE TABLE idempotency_keys (
            workspace VARCHAR NOT NULL,
            idempotency_key VARCHAR NOT NULL,
            request_hash VARCHAR NOT NULL,     -- what was asked, so a reuse for something else is refused
            job_id VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (workspace, idempotency_key)
        );
        ALTER TABLE jobs ADD COLUMN submitted_by VARCHAR;
        UPDATE jobs SET submitted_by = (
            SELECT c.actor FROM status_changes c WHERE c.job_id = jobs.job_id ORDER BY c.id LIMIT 1);
        """
    )


def m009_run_requests(con: duckdb.DuckDBPyConnection) -> None:
    """What a run asks beyond its job's options (regenerate only some drafts, with a creator's
    instruction). A table of its own rather than columns of ``job_runs``, so inserts listing
    ``job_runs`` columns by position keep working."""
    con.execute(
        """
        CREATE TABLE run_requests (
            run_id VARCHAR PRIMARY KEY,
            formats VARCHAR,                   -- JSON list; NULL: every format the job asked for
            instruction VARCHAR,               -- the creator's words, bounded; NULL: none
            requested_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        );
        """
    )


MIGRATIONS = [
    m001_initial,
    m002_experiments,
    m003_webhook_signing,
    m004_store_requests,
    m005_voice_profiles,
    m006_quota_reservations,
    m007_plan_exempt_jobs,
    m008_people,
    m009_run_requests,
]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply what is missing, each migration in its own transaction. Returns what ran."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            migration(con)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [number, migration.__name__, datetime.now(UTC).replace(tzinfo=None)],
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        applied.append(migration.__name__)
    return applied
