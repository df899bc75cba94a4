from stagekit import run_stage
from vidgen.stages.base import StageContext, StageResult


def run(ctx: StageContext) -> StageResult:
    return run_stage("content_generation", ctx)
