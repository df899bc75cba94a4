from noopstages import noop as run

__all__ = ["run"]
