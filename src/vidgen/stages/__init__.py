"""The ordered stage list. Adding a stage is one module here plus one line below.

Each name is a module ``vidgen.stages.<name>`` whose entry point is
``run(ctx: StageContext) -> StageResult`` (see ``vidgen.stages.base``). Kept import-free so that
``import vidgen`` stays instant.
"""

PIPELINE_STAGES: tuple[str, ...] = (
    "trend_collection",
    "trend_analysis",
    "content_generation",
    "composition",
    "review",
)
