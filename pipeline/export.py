"""The export bundle: each draft in the files its format's spec exports (an X thread as posts
ready to paste, a LinkedIn post as plain text, a newsletter or blog post as Markdown and HTML,
...), the transcript (SRT, VTT, TXT), the insight pack and the QA report as JSON, and a manifest.
Pure: callers pass the data in."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from pipeline import formats
from pipeline.formats import Export
from pipeline.models import Draft, InsightPack, QAReport, Transcript

__all__ = ["bundle_files", "write_bundle", "bundle_zip", "draft_text", "draft_exports", "draft_as_posted"]


def draft_text(draft: Draft) -> str:
    """A draft as one text (title, then its text), for diffs between versions."""
    return f"{draft.title}\n\n{draft.text().strip()}\n"


def draft_as_posted(draft: Draft) -> str:
    """The draft as its format's first export gives it: what a creator pastes."""
    return formats.get(draft.format).exports[0].render(draft)


def draft_exports(draft: Draft, chosen: dict[str, bool] | None = None) -> list[tuple[str, str, Export]]:
    """(file name, content, export) for each file the draft's format exports, made with the
    creator's ``chosen`` export choices (numbered posts, timestamps kept; the defaults where none)."""
    spec = formats.get(draft.format)
    return [(f"{spec.name}{export.suffix}", export.make(draft, chosen), export) for export in spec.exports]


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
    for name in formats.in_order(drafts):
        for filename, content, _ in draft_exports(drafts[name]):
            files[f"drafts/{filename}"] = content
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
