"""The ``train`` kind's engine: your own model and data from a scenario file (see :mod:`.train`)."""

from regtui.engine.custom.train import run

__all__ = ["run"]
