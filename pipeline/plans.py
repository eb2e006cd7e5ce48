"""Plan entitlements: monthly minutes and the longest video a plan takes."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline.errors import ErrorCode, StepError

__all__ = ["PlanStatus", "check_quota", "estimate_minutes"]


class PlanStatus(BaseModel):
    """A workspace's plan limits and the minutes it used this month."""

    workspace: str
    plan: str
    monthly_minutes: int
    max_video_minutes: int
    used_minutes: float


def estimate_minutes(duration_s: float) -> float:
    return round(duration_s / 60, 2)


def check_quota(plan: PlanStatus, duration_s: float) -> None:
    """Raise QUOTA_EXCEEDED with what to change when the plan does not cover this video."""
    minutes = estimate_minutes(duration_s)
    if minutes > plan.max_video_minutes:
        raise StepError(
            ErrorCode.QUOTA_EXCEEDED,
            f"this video is {minutes:.0f} min; the {plan.plan} plan takes videos up to {plan.max_video_minutes} min "
            "— trim the video or move the workspace to a larger plan",
        )
    left = plan.monthly_minutes - plan.used_minutes
    if minutes > left:
        raise StepError(
            ErrorCode.QUOTA_EXCEEDED,
            f"this video needs {minutes:.0f} min but workspace {plan.workspace} has {max(left, 0):.0f} of its "
            f"{plan.monthly_minutes} monthly minutes left on the {plan.plan} plan — wait for next month or upgrade "
            "the plan",
        )
