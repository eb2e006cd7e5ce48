"""Versioned prompt files, read by the workers and the notebooks alike.

Layout: ``pipeline/prompts/<name>/<version>.toml``, each file::

    name = "insights"
    version = "v1"
    description = "why this version exists"
    [params]            # model parameters (Gemini) or algorithm parameters (local provider)
    temperature = 0.4
    [template]          # named text templates; ``{placeholders}`` are filled by the provider
    system = "..."
    user = "..."

The version used for new runs is the newest one unless a label (``production``) says
otherwise; labels live in the database and are resolved by ``pipeline.labels``.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from pipeline.errors import ClipInsightError

__all__ = ["Prompt", "PromptNotFound", "load_prompt", "list_versions", "list_prompts", "PROMPTS_DIR"]

PROMPTS_DIR = Path(__file__).resolve().parent


class PromptNotFound(ClipInsightError):
    pass


class Prompt(BaseModel):
    name: str
    version: str
    description: str = ""
    params: dict = Field(default_factory=dict)
    template: dict[str, str] = Field(default_factory=dict)

    def render(self, part: str, **values: object) -> str:
        """Fill ``{placeholder}`` fields of one template part; unknown braces stay as written."""
        text = self.template.get(part)
        if text is None:
            raise PromptNotFound(f"prompt {self.name}/{self.version} has no template part {part!r}")
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"\d+|\D+", version))


def list_prompts(root: Path = PROMPTS_DIR) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.toml")))


def list_versions(name: str, root: Path = PROMPTS_DIR) -> list[str]:
    folder = root / name
    if not folder.is_dir():
        raise PromptNotFound(f"no prompt named {name!r} under {root}")
    return sorted((p.stem for p in folder.glob("*.toml")), key=_version_key)


def load_prompt(name: str, version: str | None = None, root: Path = PROMPTS_DIR) -> Prompt:
    """Load ``name`` at ``version`` (the newest when None)."""
    versions = list_versions(name, root)
    if not versions:
        raise PromptNotFound(f"prompt {name!r} has no versions")
    chosen = version or versions[-1]
    if chosen not in versions:
        raise PromptNotFound(f"prompt {name!r} has no version {chosen!r} (have: {', '.join(versions)})")
    return _load_file(root / name / f"{chosen}.toml")


@lru_cache(maxsize=256)
def _load_file(path: Path) -> Prompt:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    prompt = Prompt.model_validate(data)
    if prompt.name != path.parent.name or prompt.version != path.stem:
        raise PromptNotFound(f"{path} declares {prompt.name}/{prompt.version}; the file name must match")
    return prompt
