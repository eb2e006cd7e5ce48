"""Every default the product uses, named and explained in one place.

Settings (``pipeline.settings``) read environment variables and fall back to these values.
"""

# --- Paths ---------------------------------------------------------------------------------
#: Where the DuckDB file, media, exports and the embedded Redis live.
DATA_DIR = "data"
#: The system of record, inside the data dir.
DATABASE_FILENAME = "clipinsight.duckdb"

# --- Store (DuckDB) ------------------------------------------------------------------------
#: DuckDB lets one process open the file at a time, so every store call waits for a
#: cross-process lock. After this many seconds the call fails with a clear error instead of
#: hanging a worker or a page forever.
STORE_LOCK_TIMEOUT_S = 20.0
#: Threads DuckDB may use per connection; more threads only slow down connection start-up
#: for the small queries this product runs.
STORE_THREADS = 2
#: While the storekeeper runs, a client that cannot reach it (it is restarting) retries for this
#: many seconds before it fails with a clear error.
STORE_WAIT_S = 30.0
#: The storekeeper's unix socket and the file that says a storekeeper owns the database, both in
#: the data dir.
STORE_SOCKET = "store.sock"
STORE_MARKER = "storekeeper.json"
#: A read-only query from a person (``pipeline sql``, a notebook) is stopped after this long.
STORE_QUERY_TIMEOUT_S = 60.0
#: Answers to transactions kept for a client that lost them and asks again (by request id).
STORE_REQUEST_TTL_S = 24 * 3600

# --- Redis / RQ ----------------------------------------------------------------------------
#: The one RQ queue that carries step jobs.
QUEUE_NAME = "clipinsight"
#: Prefix of every key this product writes to Redis besides RQ's own.
REDIS_PREFIX = "clipinsight:"
#: Embedded Redis: seconds to wait for the server socket after starting it.
REDIS_START_TIMEOUT_S = 15.0
#: How often a worker that lost Redis checks whether it is back.
REDIS_RECONNECT_S = 0.2

# --- Workers, leases and the reconciler ----------------------------------------------------
#: Workers started by ``python -m pipeline up`` unless ``--workers`` says otherwise.
WORKERS = 2
#: A running step holds a lease in Redis that its worker renews every LEASE_RENEW_S. A lease
#: not renewed for LEASE_TTL_S means the worker is gone (SIGKILL, OOM, lost host).
LEASE_TTL_S = 6.0
LEASE_RENEW_S = 1.0
#: A worker announces itself with a key of this TTL, renewed every LEASE_RENEW_S.
WORKER_TTL_S = 6.0
#: How often the reconciler compares DuckDB (the truth) with Redis (the transport).
RECONCILE_INTERVAL_S = 1.0
#: A queued attempt whose RQ job is missing from Redis for this long is enqueued again.
REQUEUE_AFTER_S = 5.0
#: An RQ job marked started whose attempt was never claimed in DuckDB for this long lost its
#: worker between dequeue and claim (a claim takes milliseconds).
STALE_CLAIM_S = 30.0
#: Seconds a step may run before RQ stops it; transcription of long media gets more.
STEP_TIMEOUT_S = 900
LONG_STEP_TIMEOUT_S = 3 * 3600

# --- Retry policy --------------------------------------------------------------------------
#: Attempts per step for retryable errors (the first attempt included).
MAX_ATTEMPTS = 3
#: Exponential backoff: first delay, growth factor, cap; full jitter of +/- RETRY_JITTER.
RETRY_INITIAL_S = 1.0
RETRY_FACTOR = 2.0
RETRY_CAP_S = 30.0
RETRY_JITTER = 0.2
#: A remote call (LLM, ASR upload and polling, download, webhook) retries its own transient
#: failures before the step fails: at most this many tries, within this many seconds, with the
#: same jittered backoff starting from CALL_RETRY_INITIAL_S. A server's Retry-After is honoured
#: as long as it fits in what is left of the budget.
CALL_MAX_TRIES = 5
CALL_BUDGET_S = 90.0
CALL_RETRY_INITIAL_S = 0.5

# --- Plans and quota -----------------------------------------------------------------------
#: The workspace a submission lands in when none is named.
DEFAULT_WORKSPACE = "default"
#: Plans seeded by the first migration: name -> (monthly minutes, max minutes per video).
PLANS = {
    "free": (60, 20),
    "creator": (600, 120),
    "studio": (3000, 240),
}
DEFAULT_PLAN = "creator"

# --- QA ------------------------------------------------------------------------------------
#: A draft scoring below this after auto-fix goes to an editor.
QA_THRESHOLD = 70

# --- Transcripts ---------------------------------------------------------------------------
#: Largest transcript accepted, at every entry (UI, CLI, API): a 10-hour talk is about 1 MB.
MAX_TRANSCRIPT_MB = 5
MAX_TRANSCRIPT_BYTES = MAX_TRANSCRIPT_MB * 1024 * 1024
#: Seconds an upload may take to parse (in the quarantine's child process) before it is
#: stopped and refused. Parsing is linear: the slowest 5 MB file measured (100,000 WebVTT cues)
#: takes about 3 s on one core; a quadratic parser would take hours on the same file.
PARSE_TIMEOUT_S = 15.0
#: Most lines a transcript file may have: a 10-hour talk's SRT has about 25,000, 5 MB of prose
#: about 60,000. 5 MB of one-letter lines (1.7 million) took 11 s to parse as text and 3 s as
#: one WebVTT cue; it is now refused before parsing.
MAX_TRANSCRIPT_LINES = 400_000
#: Most segments (lines, or sentences within them) a plain-text transcript may give: one
#: 5 MB line of "A. A. A. …" would otherwise make 1.7 million.
MAX_TRANSCRIPT_SEGMENTS = 200_000
#: Fewer words than this in a transcript cannot make a content pack.
MIN_TRANSCRIPT_WORDS = 30

# --- Gemini --------------------------------------------------------------------------------
#: Model used for insights, drafts, the judge and speech recognition unless GEMINI_MODEL says otherwise.
GEMINI_MODEL = "gemini-2.5-flash"
#: Seconds one HTTP call to Gemini may take (a long audio file takes the longest).
GEMINI_TIMEOUT_S = 180.0
#: Rate limits shared by every worker, per model. The defaults are the free tier of
#: gemini-2.5-flash (10 requests and 250,000 input tokens per minute); a paid key can raise
#: them with GEMINI_RPM / GEMINI_TPM.
GEMINI_RPM = 10
GEMINI_TPM = 250_000
#: The window those limits count over.
GEMINI_RATE_WINDOW_S = 60.0
#: The longest a call waits for the rate limiter; after that the step is retried later
#: (RATE_LIMITED) instead of holding a worker.
GEMINI_RATE_WAIT_S = 120.0
#: An uploaded audio file is processed by Gemini before it can be used: poll this often, for
#: at most this long.
GEMINI_FILE_POLL_S = 1.0
GEMINI_FILE_READY_TIMEOUT_S = 600.0

# --- OpenAI-compatible servers (OpenAI, Ollama, llama.cpp, vLLM, LM Studio) ------------------
#: Model asked unless OPENAI_MODEL says otherwise (a local server names its own, e.g. llama3.1:8b).
OPENAI_MODEL = "gpt-4o-mini"
#: Seconds one request may take (a local model on a CPU is slow).
OPENAI_TIMEOUT_S = 300.0
#: Shared limits per model, like Gemini's; a local server has none worth counting, so high.
OPENAI_RPM = 60
OPENAI_TPM = 1_000_000

# --- Media and speech recognition ---------------------------------------------------------
#: Media longer than this is cut into chunks that are recognised in parallel and stitched.
ASR_CHUNK_AFTER_S = 15 * 60
#: Length of one chunk; the last one is shorter.
ASR_CHUNK_S = 10 * 60
#: Chunks recognised at the same time (threads; a remote recognizer waits on the network).
ASR_PARALLEL_CHUNKS = 4
#: Mean recognizer confidence (0..1) below which the creator is asked for a transcript.
#: Whisper's mean token probability on clear speech is 0.6-0.9; below 0.35 most words are guesses.
MIN_ASR_CONFIDENCE = 0.35
#: A transcript covering less than this share of the media's duration is sent back to the creator.
MIN_TRANSCRIPT_COVERAGE = 0.5
#: Names that always exist. When a link's host does not resolve and none of these does either,
#: the machine is offline: the creator is told the network is unreachable, not that the link is wrong.
NETWORK_PROBE_HOSTS = ("www.youtube.com", "example.com")
#: Seconds yt-dlp waits on one network read before giving up.
DOWNLOAD_SOCKET_TIMEOUT_S = 30.0
#: Tries of one download call (metadata, or the media itself) and the time they may take in all;
#: a retried download resumes where it stopped.
DOWNLOAD_TRIES = 4
DOWNLOAD_BUDGET_S = 1800.0

# --- Webhooks ------------------------------------------------------------------------------
#: Seconds one POST may take; tries of one delivery and the time they may take together
#: (the retry policy of pipeline.retrying); bytes of the receiver's answer read before closing.
WEBHOOK_TIMEOUT_S = 10.0
WEBHOOK_ATTEMPTS = 3
WEBHOOK_BUDGET_S = 60.0
WEBHOOK_MAX_ANSWER_BYTES = 64 * 1024

# --- UI ------------------------------------------------------------------------------------
UI_PORT = 8501
#: Where the UI and the API listen unless told otherwise: this machine only. Without a login
#: configured the UI refuses any other address (it would serve every workspace to anyone).
BIND_ADDRESS = "127.0.0.1"
RUNS_PAGE_SIZE = 50
UI_REFRESH_S = 2.0

# --- HTTP API ------------------------------------------------------------------------------
API_PORT = 8000
#: A key's "last used" is recorded at most this often: a write turns a read-only request's store
#: session into a write transaction, which costs about twice as much (measured: 17 vs 10 ms).
API_KEY_TOUCH_S = 30.0
#: Requests per minute one API key may make (a sliding window shared by every API process
#: through Redis); beyond it the API answers 429 with Retry-After.
API_RATE_LIMIT_PER_MIN = 300
#: Jobs per page of ``GET /api/jobs`` unless the request asks for fewer (never more than the cap).
API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 200
#: How often ``GET /api/jobs/{id}/events`` looks at the job, and how often it sends a comment
#: line while nothing changes (so proxies keep the stream open).
EVENTS_POLL_S = 0.5
EVENTS_KEEPALIVE_S = 15.0
#: Largest request body the API reads: an upload (CLIPINSIGHT_MAX_UPLOAD_MB) plus form fields.
API_FORM_OVERHEAD_BYTES = 64 * 1024

# --- Token estimates -------------------------------------------------------------------------
#: English text runs about 1.3 tokens per word: what offline providers report as tokens, and
#: how benchmarks size an answer before a call.
TOKENS_PER_WORD = 1.3
