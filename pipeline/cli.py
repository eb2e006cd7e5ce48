"""``python -m pipeline``: the command line. Thin: every command calls ``pipeline.api`` or
``pipeline.people`` (or starts a process), prints, and turns errors into one clear line and a
non-zero exit.

The command line has the files, so it acts as the local administrator (the owner of every
workspace); what it does is recorded under ``--as EMAIL`` (default: the OS user)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from pipeline import api, defaults, formats, people
from pipeline.access import Caller, Role
from pipeline.errors import ClipInsightError
from pipeline.models import HASHTAG_POLICIES, VoiceProfile
from pipeline.options import JobOptions
from pipeline.private import keep_private
from pipeline.stages import JobStatus

__all__ = ["main", "build_parser"]

EXIT_FAILED = 1  # the job ended in a status other than ANALYTICS_LOGGED
EXIT_ERROR = 2  # a user error: bad input, unknown job, ...
EXIT_NO_WORKER = 3
EXIT_TIMEOUT = 4


class _Commands:
    """Every subcommand takes ``--as EMAIL``: who ran it, recorded in what it changes."""

    def __init__(self, parser: argparse.ArgumentParser):
        self.common = argparse.ArgumentParser(add_help=False)
        self.common.add_argument(
            "--as", dest="as_", metavar="EMAIL", help="who runs this, recorded in audit rows (default: the OS user)"
        )
        self.sub = parser.add_subparsers(dest="command", required=True)

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        return self.sub.add_parser(name, parents=[self.common], **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="ClipInsight: video to content pack.")
    sub = _Commands(parser)

    up = sub.add_parser("up", help="start Redis, the storekeeper, workers, the reconciler, the UI and the HTTP API")
    up.add_argument("--workers", type=int, default=defaults.WORKERS, help="0: workers run on other machines")
    up.add_argument("--no-ui", action="store_true", help="do not start Streamlit")
    up.add_argument("--port", type=int, default=defaults.UI_PORT)
    up.add_argument(
        "--address",
        default=defaults.BIND_ADDRESS,
        help="where the UI listens (another address than this machine's needs a login configured)",
    )
    up.add_argument("--no-api", action="store_true", help="do not start the HTTP API")
    up.add_argument("--api-port", type=int, default=defaults.API_PORT)
    up.add_argument("--api-address", default=defaults.BIND_ADDRESS, help="where the HTTP API listens")

    worker = sub.add_parser("worker", help="run one step worker (here, or on another machine: see README)")
    worker.add_argument("--queues", help="comma-separated: media, llm, default (all of them unless given)")
    worker.add_argument(
        "--wait-for-redis", action="store_true", help="wait for the embedded Redis instead of starting it (as under up)"
    )
    sub.add_parser("reconcile", help="run the reconciler (retries, lost workers, lost queue entries)")
    sub.add_parser("storekeeper", help="run the process that owns the database (`up` starts it)")
    sql = sub.add_parser("sql", help="run a read-only SELECT on the database and print the rows")
    sql.add_argument("query")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")

    submit = sub.add_parser("submit", help="submit a URL, a media file, or a transcript")
    submit.add_argument("source", nargs="?", help="a URL or a local media file")
    submit.add_argument("--transcript", type=Path, help="a transcript file (.srt, .vtt or .txt)")
    submit.add_argument("--workspace", default=defaults.DEFAULT_WORKSPACE)
    submit.add_argument(
        "--formats",
        help=f"comma-separated drafts: {','.join(formats.names())} (default: {','.join(formats.default_names())})",
    )
    submit.add_argument("--speaker", help="whose talk it is, when it is not your own (e.g. 'John F. Kennedy')")
    submit.add_argument("--title", help="the job's title (default: the insight pack's title)")
    submit.add_argument("--idempotency-key", help="a repeat with the same key returns the job it made")
    submit.add_argument("--tone", default="friendly")
    submit.add_argument("--cta", dest="cta_url", help="a call-to-action link for the drafts")
    submit.add_argument("--wait", action="store_true", help="block until the job ends")
    submit.add_argument("--timeout", type=float, help="with --wait: give up after S seconds")
    submit.add_argument("--json", action="store_true")

    status = sub.add_parser("status", help="a job's status, runs, steps and artifacts")
    status.add_argument("job_id")
    status.add_argument("--json", action="store_true")

    export = sub.add_parser("export", help="write a job's bundle")
    export.add_argument("job_id")
    export.add_argument("--out", type=Path, required=True)

    review = sub.add_parser("review", help="approve or reject drafts QA flagged")
    review.add_argument("decision", choices=["approve", "reject"])
    review.add_argument("job_id")
    review.add_argument("--reason")
    review.add_argument("--editor", dest="as_", metavar="EMAIL", help="the same as --as")

    provide = sub.add_parser("provide-transcript", help="give a transcript to a job that needs one")
    provide.add_argument("job_id")
    provide.add_argument("path", type=Path)

    for name, text in (("cancel", "cancel a running job"), ("retry", "retry a failed job from the failed step")):
        command = sub.add_parser(name, help=text)
        command.add_argument("job_id")
    rerun = sub.add_parser("rerun", help="regenerate a step and everything after it")
    rerun.add_argument("job_id")
    rerun.add_argument("step")
    regenerate = sub.add_parser("regenerate", help="write one draft again, optionally following an instruction")
    regenerate.add_argument("job_id")
    regenerate.add_argument("format", choices=formats.names())
    regenerate.add_argument("--instruction", help='e.g. "shorter", "more technical", "lead with the story"')

    workspace = sub.add_parser("workspace", help="show or change a workspace's plan and webhook")
    workspace.add_argument("name", nargs="?", default=defaults.DEFAULT_WORKSPACE)
    workspace.add_argument("--plan")
    workspace.add_argument("--webhook")
    workspace.add_argument("--no-webhook", action="store_true")
    workspace.add_argument(
        "--rotate-webhook-secret", action="store_true", help="make a new signing secret (the old one stops working)"
    )
    _add_people_commands(sub)
    _add_prompt_commands(sub)
    _add_voice_commands(sub)
    return parser


def _add_people_commands(sub: _Commands) -> None:
    roles = [r.value for r in Role]
    members = sub.add_parser("members", help="a workspace's members and invitations")
    actions = members.add_subparsers(dest="members_command", required=True)
    for name, text in (
        ("list", "members with their roles, and pending invitations"),
        ("invite", "invite EMAIL (their first sign-in joins the workspace)"),
        ("set-role", "change a member's role"),
        ("remove", "remove a member"),
    ):
        action = actions.add_parser(name, help=text, parents=[sub.common])
        action.add_argument("--workspace", default=defaults.DEFAULT_WORKSPACE)
        if name != "list":
            action.add_argument("email")
        if name in ("invite", "set-role"):
            action.add_argument("--role", choices=roles, default=Role.CREATOR.value)
        action.add_argument("--json", action="store_true")

    keys = sub.add_parser("apikey", help="a workspace's API keys for the HTTP API")
    key_actions = keys.add_subparsers(dest="apikey_command", required=True)
    create = key_actions.add_parser("create", help="a new key; its secret is shown once", parents=[sub.common])
    create.add_argument("--role", choices=roles, default=Role.CREATOR.value)
    create.add_argument("--name", default="", help="what the key is for")
    listing = key_actions.add_parser("list", help="keys with their last use", parents=[sub.common])
    revoke = key_actions.add_parser("revoke", help="refuse a key from now on", parents=[sub.common])
    revoke.add_argument("key_id")
    for action in (create, listing, revoke):
        action.add_argument("--workspace", default=defaults.DEFAULT_WORKSPACE)
        action.add_argument("--json", action="store_true")


def _add_prompt_commands(sub: _Commands) -> None:
    prompts = sub.add_parser("prompts", help="prompt versions and the labels that choose the one runs use")
    actions = prompts.add_subparsers(dest="prompts_command", required=True)
    listing = actions.add_parser("list", help="every prompt: versions, the one new runs use, labels")
    listing.add_argument("--json", action="store_true")
    promote = actions.add_parser("promote", help="make VERSION of prompt NAME the one new runs use")
    promote.add_argument("name")
    promote.add_argument("version")
    promote.add_argument("--label", default="production")
    promote.add_argument("--by", default="prompt-tuner", help="who promotes (kept in the label history)")
    promote.add_argument("--note")
    promote.add_argument("--experiment", help="the experiment that justified it")
    unpromote = actions.add_parser("unpromote", help="remove a label: new runs use the newest version again")
    unpromote.add_argument("name")
    unpromote.add_argument("--label", default="production")
    unpromote.add_argument("--by", default="prompt-tuner")
    evaluation = sub.add_parser("eval-export", help="write editors' decisions as an evaluation dataset (JSON lines)")
    evaluation.add_argument("--out", type=Path, help="file to write (default: a new file under <data dir>/evaluation)")


def _add_voice_commands(sub: _Commands) -> None:
    voice = sub.add_parser("voice", help="a workspace's brand voice: show it, change it, its versions")
    actions = voice.add_subparsers(dest="voice_command", required=True)
    show = actions.add_parser("show", help="the voice profile new runs use", parents=[sub.common])
    history = actions.add_parser("history", help="every saved version", parents=[sub.common])
    change = actions.add_parser(
        "set", help="save a new version: the fields given change, the others stay", parents=[sub.common]
    )
    for command in (show, history, change):
        command.add_argument("--workspace", default=defaults.DEFAULT_WORKSPACE)
    show.add_argument("--json", action="store_true")
    change.add_argument("--description")
    change.add_argument("--example", action="append", help="an example post (repeat, at most five)")
    change.add_argument("--use", action="append", help="a word or phrase to use (repeat)")
    change.add_argument("--avoid", action="append", help="a word or phrase never to use (repeat)")
    change.add_argument("--cta", help="the default call to action, e.g. 'Get the notes at https://...'")
    change.add_argument("--hashtags", choices=HASHTAG_POLICIES, help="none, from_talk or fixed")
    change.add_argument("--tag", action="append", help="a hashtag of the fixed list (repeat)")
    change.add_argument("--max-hashtags", type=int)
    change.add_argument("--sign-off")
    change.add_argument("--clear", action="store_true", help="start from an empty profile, not the current one")
    change.add_argument("--by", help="who saves it, kept with the version (like --as; default: the OS user)")
    change.add_argument("--note")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_private()  # every file this process or its children make is its user's alone
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except ClipInsightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _caller(args) -> Caller:
    """The local administrator, recorded under ``--as`` (default: the OS user)."""
    return Caller.local(getattr(args, "as_", None))


def _up(args) -> int:
    from pipeline.supervisor import Endpoint, Supervisor

    logging.getLogger().setLevel(logging.INFO)
    ui = None if args.no_ui else Endpoint(args.address, args.port)
    api_endpoint = None if args.no_api else Endpoint(args.api_address, args.api_port)
    supervisor = Supervisor(workers=args.workers, ui=ui, api=api_endpoint)  # refuses an open UI without login
    print(f"ClipInsight: content provider {_provider_line()}", file=sys.stderr)
    for line in supervisor.describe():
        print(line, file=sys.stderr)
    return supervisor.run()


def _provider_line() -> str:
    from pipeline.providers import describe
    from pipeline.settings import get_settings

    return describe(get_settings())


def _worker(args) -> int:
    from pipeline.worker import run_worker

    queues = [q.strip() for q in args.queues.split(",") if q.strip()] if args.queues else None
    run_worker(start_redis=not args.wait_for_redis, queues=queues)
    return 0


def _storekeeper(args) -> int:
    from pipeline.storekeeper import serve

    logging.getLogger().setLevel(logging.INFO)
    serve()
    # The database is closed by now; gRPC's threads take ~2 s to wind down at interpreter exit,
    # which would only hold up a restart or a stop.
    logging.shutdown()
    os._exit(0)


def _sql(args) -> int:
    from pipeline.sql import query

    frame = query(args.query)
    if args.format == "csv":
        print(frame.to_csv(index=False), end="")
    elif args.format == "json":
        print(frame.to_json(orient="records", date_format="iso"))
    else:
        print(frame.to_string(index=False) if len(frame) else "(no rows)")
    return 0


def _reconcile(args) -> int:
    from pipeline.reconciler import run_forever

    logging.getLogger().setLevel(logging.INFO)
    run_forever()
    return 0


def _options(args) -> JobOptions:
    chosen = args.formats.split(",") if args.formats else None
    return api.job_options(chosen, tone=args.tone, cta_url=args.cta_url, speaker=args.speaker, title=args.title)


def _first_line(exc: Exception) -> str:
    text = str(exc)
    if "Value error," in text:
        text = text.split("Value error,", 1)[1]
    return text.strip().splitlines()[0]


def _submit(args) -> int:
    transcript, name = (None, "transcript.txt")
    if args.transcript:
        transcript, name = api.read_transcript_file(args.transcript)
    elif not args.source:
        raise ClipInsightError("give a SOURCE (URL or media file) or --transcript PATH")
    result = api.submit(
        args.source,
        transcript=transcript,
        transcript_name=name,
        workspace=args.workspace,
        options=_options(args),
        idempotency_key=args.idempotency_key,
        caller=_caller(args),
    )
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    workers = api.workers_alive()
    if not args.wait:
        _print_submission(args, result)
        return _no_worker(result) if not workers else 0
    if not workers:
        _print_submission(args, result)
        return _no_worker(result)
    return _wait(args, result)


def _print_submission(args, result: api.Submission) -> None:
    if args.json:
        print(json.dumps({"job_id": result.job_id, "status": result.status, "duplicate": result.duplicate}))
    else:
        print(result.job_id + ("  (already submitted; same job)" if result.duplicate else ""))


def _no_worker(result: api.Submission) -> int:
    print(
        f"error: no worker is running for this data dir; job {result.job_id} is saved and starts when one runs "
        "(start them with `python -m pipeline up`)",
        file=sys.stderr,
    )
    return EXIT_NO_WORKER


def _wait(args, result: api.Submission) -> int:
    live = sys.stdout.isatty() and not args.json
    if live:
        print(result.job_id)
    try:
        report = api.wait_for(
            result.job_id, args.timeout, on_change=_show_progress if live else None, caller=_caller(args)
        )
    except TimeoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT
    if args.json:
        print(json.dumps(report))
    elif not live:
        print(f"{result.job_id} {report['status']}")
    return 0 if report["status"] == JobStatus.ANALYTICS_LOGGED.value else EXIT_FAILED


def _show_progress(report: dict) -> None:
    steps = report["runs"][-1]["steps"] if report["runs"] else []
    current = next((s for s in reversed(steps) if s["status"] in ("running", "queued", "scheduled")), None)
    where = f" — {current['step']} ({current['status']}, attempt {current['attempt']})" if current else ""
    print(f"  {report['status']}{where}", flush=True)


def _status(args) -> int:
    report = api.status_report(args.job_id, caller=_caller(args))
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"{report['job_id']}  {report['status']}"
        + (f"  ({report['status_reason']})" if report["status_reason"] else "")
    )
    for run in report["runs"]:
        print(f"  run {run['run_id']} ({run['status']}, from {run['start_step']})")
        for step in run["steps"]:
            error = f"  {step['error_code']}: {step['error_message']}" if step["error_code"] else ""
            print(f"    {step['step']:<18} {step['status']:<10} attempt {step['attempt']}{error}")
    return 0


def _export(args) -> int:
    written = api.export_job(args.job_id, args.out, caller=_caller(args))
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def _review(args) -> int:
    if args.decision == "approve":
        status = api.approve(args.job_id, note=args.reason, caller=_caller(args))
    else:
        status = api.reject(args.job_id, reason=args.reason or "", caller=_caller(args))
    print(f"{args.job_id} {status}")
    return 0


def _provide(args) -> int:
    data, name = api.read_transcript_file(args.path)
    print(f"{args.job_id} {api.provide_transcript(args.job_id, data, name, caller=_caller(args))}")
    return 0


def _cancel(args) -> int:
    print(f"{args.job_id} {api.cancel(args.job_id, caller=_caller(args))}")
    return 0


def _retry(args) -> int:
    print(f"{args.job_id} {api.retry(args.job_id, caller=_caller(args))}")
    return 0


def _rerun(args) -> int:
    print(f"{args.job_id} {api.rerun(args.job_id, args.step, caller=_caller(args))}")
    return 0


def _regenerate(args) -> int:
    print(f"{args.job_id} {api.regenerate(args.job_id, args.format, args.instruction, caller=_caller(args))}")
    return 0


def _workspace(args) -> int:
    info = api.configure_workspace(
        args.name, plan=args.plan, webhook_url=args.webhook, clear_webhook=args.no_webhook, caller=_caller(args)
    )
    if args.rotate_webhook_secret:
        info["webhook_secret"] = api.rotate_webhook_secret(args.name, caller=_caller(args))
    print(json.dumps(info))
    if "webhook_secret" in info:
        print(
            "The webhook signing secret is shown this once: keep it with your receiver, which checks "
            "X-ClipInsight-Signature with it (README, Webhooks).",
            file=sys.stderr,
        )
    return 0


def _members(args) -> int:
    caller, workspace = _caller(args), args.workspace
    if args.members_command == "list":
        found = people.members(workspace, caller=caller)
        if args.json:
            print(json.dumps(found, default=str))
            return 0
        for member in found["members"]:
            print(f"{member['email']:<40} {member['role']:<8} last sign-in {member['last_login_at'] or '-'}")
        for invitation in found["invitations"]:
            print(f"{invitation['email']:<40} {invitation['role']:<8} invited by {invitation['invited_by']}")
        return 0
    if args.members_command == "invite":
        result = people.invite(workspace, args.email, args.role, caller=caller)
        print(json.dumps(result) if args.json else f"{result['email']} {result['status']} as {result['role']}")
    elif args.members_command == "set-role":
        people.set_role(workspace, args.email, args.role, caller=caller)
        print(f"{args.email} is now {args.role} in {workspace}")
    else:
        people.remove_member(workspace, args.email, caller=caller)
        print(f"{args.email} removed from {workspace}")
    return 0


def _apikey(args) -> int:
    caller, workspace = _caller(args), args.workspace
    if args.apikey_command == "create":
        key = people.create_key(workspace, args.role, args.name, caller=caller)
        if args.json:
            print(json.dumps(key))
        else:
            print(key["secret"])
            print(
                f"{key['key_id']} ({key['role']} in {workspace}): the line above is the key; it is not shown again",
                file=sys.stderr,
            )
        return 0
    if args.apikey_command == "revoke":
        people.revoke_key(workspace, args.key_id, caller=caller)
        print(f"{args.key_id} revoked")
        return 0
    keys = people.list_keys(workspace, caller=caller)
    if args.json:
        print(json.dumps(keys, default=str))
        return 0
    for key in keys:
        state = f"revoked {key['revoked_at']:%Y-%m-%d %H:%M}" if key["revoked_at"] else "live"
        used = f"{key['last_used_at']:%Y-%m-%d %H:%M:%S}" if key["last_used_at"] else "never"
        print(f"{key['key_id']:<14} {key['role']:<8} {state:<24} last used {used:<20} {key['name']}")
    return 0


def _prompts(args) -> int:
    from pipeline import labels

    if args.prompts_command == "list":
        return _print_prompts(labels.overview(), args.json)
    if args.prompts_command == "promote":
        before = labels.promote(
            args.name, args.version, label=args.label, by=args.by, note=args.note, experiment_id=args.experiment
        )
        print(f"{args.name} {args.label} = {args.version} (was {before or 'the newest version'})")
        return 0
    before = labels.unpromote(args.name, label=args.label, by=args.by)
    print(
        f"{args.name} {args.label} removed (was {before}); new runs use the newest version"
        if before
        else f"{args.name} has no {args.label} label"
    )
    return 0


def _print_prompts(rows: list[dict], as_json: bool) -> int:
    if as_json:
        print(json.dumps(rows))
        return 0
    print(f"{'prompt':<24} {'versions':<14} {'in use':<8} {'labels':<24} tasks")
    for row in rows:
        labels_text = ", ".join(f"{k}={v}" for k, v in sorted(row["labels"].items())) or "-"
        print(
            f"{row['prompt']:<24} {', '.join(row['versions']):<14} {row['in_use'] or '-':<8} {labels_text:<24} "
            f"{', '.join(row['tasks']) or '-'}"
        )
    return 0


_VOICE_FIELDS = {
    "description": "description",
    "example": "examples",
    "use": "use_phrases",
    "avoid": "avoid_phrases",
    "cta": "default_cta",
    "hashtags": "hashtag_policy",
    "tag": "hashtags",
    "max_hashtags": "max_hashtags",
    "sign_off": "sign_off",
}


def _voice(args) -> int:
    if args.voice_command == "history":
        for row in api.voice_history(args.workspace, caller=_caller(args)):
            print(f"v{row['version']}  {row['saved_at']:%Y-%m-%d %H:%M}  {row['saved_by']}  {row['note'] or ''}")
        return 0
    if args.voice_command == "show":
        profile = api.voice_profile(args.workspace, caller=_caller(args))
        print(profile.model_dump_json(indent=None if args.json else 2))
        return 0
    base = VoiceProfile() if args.clear else api.voice_profile(args.workspace, caller=_caller(args))
    changes = {field: getattr(args, name) for name, field in _VOICE_FIELDS.items() if getattr(args, name) is not None}
    try:
        profile = VoiceProfile.model_validate(base.model_dump() | changes)
    except ValueError as exc:
        raise ClipInsightError(_first_line(exc)) from None
    caller = Caller.local(getattr(args, "by", None) or args.as_)
    version = api.save_voice_profile(args.workspace, profile, note=args.note, caller=caller)
    print(f"voice profile of {args.workspace} saved as v{version}")
    return 0


def _eval_export(args) -> int:
    from pipeline import evaluation

    path = evaluation.export_decisions(args.out)
    count = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    print(f"wrote {count} editor decision(s) to {path}")
    return 0


COMMANDS = {
    "up": _up,
    "worker": _worker,
    "reconcile": _reconcile,
    "storekeeper": _storekeeper,
    "sql": _sql,
    "submit": _submit,
    "status": _status,
    "export": _export,
    "review": _review,
    "provide-transcript": _provide,
    "cancel": _cancel,
    "retry": _retry,
    "rerun": _rerun,
    "regenerate": _regenerate,
    "workspace": _workspace,
    "members": _members,
    "apikey": _apikey,
    "prompts": _prompts,
    "eval-export": _eval_export,
    "voice": _voice,
}
