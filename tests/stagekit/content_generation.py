from vidgen.stages.base import StageContext, StageResult

from stagekit import run_stage


def run(ctx: StageContext) -> StageResult:
    return run_stage("content_generation", ctx)
