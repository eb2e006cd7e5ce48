"""Adding a step is one module and one row: a throwaway ``translate`` step, defined here and put
into the pipeline table after ``insights``, runs in real worker processes like any other step —
its artifact is stored, the drafts after it still run, the run page lists it in order, and a
person can re-run the job from it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline import api, views
from pipeline.models import InsightPack
from pipeline.options import JobInfo
from pipeline.stages import PIPELINE as DEFAULT
from pipeline.stages import JobStatus, Stage
from pipeline.steps.base import StepContext, StepOutputs, reads, writes
from pipeline.store import artifacts as artifact_rows
from pipeline.store import get_store
from pipeline.store import steps as step_rows


class Translation(BaseModel):
    language: str
    title: str
    themes: list[str]


class TranslateStep:
    """The step module (a class stands in for a module file: ``Inputs``, ``Outputs``, ``run``)."""

    class Inputs(BaseModel):
        job: Annotated[JobInfo, reads.JOB]
        insights: Annotated[InsightPack, reads.artifact("insights")]

    class Outputs(StepOutputs):
        translation: Annotated[Translation, writes.artifact("translation")]

    @staticmethod
    def run(ctx: StepContext, inputs: Inputs) -> Outputs:
        ctx.info(f"translating {len(inputs.insights.themes)} themes")
        return TranslateStep.Outputs(
            translation=Translation(
                language="pig-latin",
                title=_pig_latin(inputs.insights.title),
                themes=[_pig_latin(theme.title) for theme in inputs.insights.themes],
            )
        )


def _pig_latin(text: str) -> str:
    return " ".join(word[1:] + word[:1] + "ay" if word.isalpha() else word for word in text.split())


#: The one row: a stage after insights that keeps the job's status as it is.
PIPELINE = DEFAULT.insert_after("insights", Stage("translate", TranslateStep, None, "Translating"))


def _steps_in_order(job_id: str) -> list[str]:
    attempts = get_store().run(step_rows.attempts_for_job, job_id)
    return [a["step"] for a in sorted(attempts, key=lambda a: (a["started_at"], a["id"])) if a["status"] == "done"]


def test_a_step_added_with_one_row_runs_in_the_pipeline(cluster_factory, sample_srt, monkeypatch):
    monkeypatch.setenv("CLIPINSIGHT_PIPELINE", "tests.test_new_step:PIPELINE")
    cluster_factory(workers=2)
    job_id = api.submit(transcript=sample_srt.read_bytes(), transcript_name=sample_srt.name).job_id
    assert api.wait_for(job_id, timeout=120)["status"] == JobStatus.ANALYTICS_LOGGED.value

    row = get_store().run(artifact_rows.load_artifact, job_id, "translation")
    insights = InsightPack.model_validate_json(
        get_store().run(artifact_rows.load_artifact, job_id, "insights")["content"]
    )
    translation = Translation.model_validate_json(row["content"])
    assert translation.title == _pig_latin(insights.title) and len(translation.themes) == len(insights.themes)

    done = _steps_in_order(job_id)
    assert (
        done.index("insights") < done.index("translate") < min(i for i, s in enumerate(done) if s.startswith("draft:"))
    )
    detail = views.run_header(job_id)
    assert "translate" in detail["stages"]
    assert detail["step_order"].index("translate") == detail["step_order"].index("insights") + 1

    assert api.rerun(job_id, "translate") == JobStatus.INSIGHTS.value  # the status the table says it starts from
    assert api.wait_for(job_id, timeout=120)["status"] == JobStatus.ANALYTICS_LOGGED.value
    assert _steps_in_order(job_id).count("translate") == 2
