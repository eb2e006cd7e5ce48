"""A step registry for tests: the real steps, with a pause inside the one named by
CLIPINSIGHT_TEST_SLOW_STEP, so that a test can kill the worker in the middle of it."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

from pipeline.steps import REGISTRY as REAL
from pipeline.steps import StepSpec


def _slowed(spec: StepSpec) -> StepSpec:
    def run(ctx, inputs):
        if os.environ.get("CLIPINSIGHT_TEST_SLOW_STEP") == spec.name and ctx.attempt == 1:
            (ctx.settings.data_dir / f"started-{spec.name}").write_text(str(os.getpid()))
            time.sleep(float(os.environ.get("CLIPINSIGHT_TEST_SLOW_SECONDS", "30")))
        return spec.module.run(ctx, inputs)

    module = SimpleNamespace(Inputs=spec.module.Inputs, run=run)
    return StepSpec(spec.name, module, spec.failure_code, spec.timeout_s, spec.params)


REGISTRY = {name: _slowed(spec) for name, spec in REAL.items()}
