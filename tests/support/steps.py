"""A pipeline for tests: the real steps, with a pause inside the one named by
CLIPINSIGHT_TEST_SLOW_STEP, so that a test can kill the worker in the middle of it.
CLIPINSIGHT_TEST_SLOW_WHEN=after pauses after the step's body has run (its side effects are
done, its outputs not yet committed)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from types import SimpleNamespace

from pipeline.stages import PIPELINE as REAL
from pipeline.stages import Pipeline, Stage


def _pause_here(ctx, when: str) -> None:
    slow = os.environ.get("CLIPINSIGHT_TEST_SLOW_STEP") == ctx.step and ctx.attempt == 1
    if slow and os.environ.get("CLIPINSIGHT_TEST_SLOW_WHEN", "before") == when:
        (ctx.settings.data_dir / f"started-{ctx.step}").write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("CLIPINSIGHT_TEST_SLOW_SECONDS", "30")))


def _slowed(stage: Stage) -> Stage:
    real = stage.load()

    def run(ctx, inputs):
        _pause_here(ctx, "before")
        outputs = real.run(ctx, inputs)
        _pause_here(ctx, "after")
        return outputs

    return replace(stage, module=SimpleNamespace(Inputs=real.Inputs, Outputs=real.Outputs, run=run))


PIPELINE = Pipeline([_slowed(stage) for stage in REAL.stages])
