"""The export bundle: one Markdown file per draft, the transcript (SRT, VTT, TXT), the insight
pack and the QA report as JSON, and a manifest. Pure: callers pass the data in."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from pipeline.models import Draft, DraftFormat, InsightPack, QAReport, Transcript

__all__ = ["bundle_files", "write_bundle", "bundle_zip", "draft_markdown"]


def draft_markdown(draft: Draft) -> str:
    if draft.format is DraftFormat.X_THREAD:
        return f"# {draft.title}\n\n" + "\n\n---\n\n".join(draft.posts or [draft.body]) + "\n"
    body = draft.body.strip()
    return body + "\n" if body.startswith("#") else f"# {draft.title}\n\n{body}\n"


def bundle_files(
    *,
    job: dict,
    transcript: Transcript,
    insights: InsightPack | None,
    drafts: dict[str, Draft],
    qa_report: QAReport | None,
) -> dict[str, str]:
    """Relative path -> text content."""
    files = {
        "transcript.srt": transcript.to_srt(),
        "transcript.vtt": transcript.to_vtt(),
        "transcript.txt": transcript.to_txt(),
    }
    for fmt, draft in sorted(drafts.items()):
        files[f"drafts/{fmt}.md"] = draft_markdown(draft)
    if insights is not None:
        files["insights.json"] = insights.model_dump_json(indent=2)
    if qa_report is not None:
        files["qa_report.json"] = qa_report.model_dump_json(indent=2)
    manifest = {
        "job_id": job["job_id"],
        "title": job.get("title"),
        "source": job.get("source"),
        "status": job.get("status"),
        "files": sorted(files),
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, default=str)
    return files


def write_bundle(out_dir: Path, files: dict[str, str]) -> list[Path]:
    out_dir = Path(out_dir)
    written = []
    for relative, content in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)  # atomic: a re-run never leaves half a file
        written.append(path)
    return written


def bundle_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, content in sorted(files.items()):
            archive.writestr(relative, content)
    return buffer.getvalue()
