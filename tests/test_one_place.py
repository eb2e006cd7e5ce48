"""One place for each concept: no module outside the pipeline table (``pipeline/stages.py``) and
the step modules names a stage where the pipeline's shape is decided — a comparison with a stage
or step, a re-run or resume point, a status before a stage. Artifact kinds and prompt tasks
that share a word with a stage (``insights``) are other concepts and are not counted."""

from __future__ import annotations

import ast
from pathlib import Path

from pipeline.stages import PIPELINE

ROOT = Path(__file__).resolve().parents[1]
STAGE_NAMES = set(PIPELINE.names)
#: Calls whose arguments are stage names.
SHAPE_CALLS = {"rerun", "stage", "steps_of", "status_before", "queue_stage", "resume", "next", "insert_after"}


def _code_files() -> list[Path]:
    owners = {ROOT / "pipeline" / "stages.py", *(ROOT / "pipeline" / "steps").glob("*.py")}
    files = [*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    return [path for path in files if path not in owners]


def _stage_literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and node.value in STAGE_NAMES else None


def _about_shape(node: ast.AST) -> bool:
    text = ast.unparse(node).lower()
    return "stage" in text or "step" in text


def _uses(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_stage_literal(s) for s in sides) and any(_about_shape(s) for s in sides if not _stage_literal(s)):
                yield node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            literals = [n for n in ast.walk(node.value) if _stage_literal(n)] if node.value else []
            if literals and any(_about_shape(t) for t in targets):
                yield node
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in SHAPE_CALLS and any(_stage_literal(arg) for arg in node.args):
                yield node


def test_no_module_outside_the_table_and_the_steps_decides_on_a_stage_name():
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for path in _code_files()
        for node in _uses(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


def test_the_scan_finds_what_it_looks_for():
    """The scan above is not blind: what round 1 wrote in api.py is found."""
    round_one = "\n".join(
        [
            'if stage == "deliver": pass',
            'stage = stage_of(failed) if failed else "validate"',
            'api.rerun(job, "drafts")',
        ]
    )
    assert len(list(_uses(ast.parse(round_one)))) == 3
