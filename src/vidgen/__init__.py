"""vidgen: an unattended short-video factory.

Queue a job, let a worker take it through five checkpointed stages, review the MP4.
The public names here are deliberately cheap to import: the CLI's start-up depends on it.
"""

from vidgen.stages import PIPELINE_STAGES

__version__ = "0.1.0"
__all__ = ["PIPELINE_STAGES", "__version__"]
