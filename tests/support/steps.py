"""A step registry for tests: the real steps, with a pause inside the one named by
CLIPINSIGHT_TEST_SLOW_STEP, so that a test can kill the worker in the middle of it.
CLIPINSIGHT_TEST_SLOW_WHEN=after pauses after the step's body has run (its side effects are
done, its outputs not yet committed)."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

from pipeline.steps import REGISTRY as REAL
from pipeline.steps import StepSpec


def _slowed(spec: StepSpec) -> StepSpec:
    def pause_here(ctx, when: str) -> None:
        slow = os.environ.get("CLIPINSIGHT_TEST_SLOW_STEP") == spec.name and ctx.attempt == 1
        if slow and os.environ.get("CLIPINSIGHT_TEST_SLOW_WHEN", "before") == when:
            (ctx.settings.data_dir / f"started-{spec.name}").write_text(str(os.getpid()))
            time.sleep(float(os.environ.get("CLIPINSIGHT_TEST_SLOW_SECONDS", "30")))

    def run(ctx, inputs):
        pause_here(ctx, "before")
        outputs = spec.module.run(ctx, inputs)
        pause_here(ctx, "after")
        return outputs

    module = SimpleNamespace(Inputs=spec.module.Inputs, run=run)
    return StepSpec(spec.name, module, spec.failure_code, spec.timeout_s, spec.params)


REGISTRY = {name: _slowed(spec) for name, spec in REAL.items()}
