"""The ``regtui`` command line: the entry point (:mod:`.main`), ``regtui runs …`` (:mod:`.runs`),
``regtui download …`` (:mod:`.download`) and the one-line errors they share (:mod:`.common`).

The top of the layers: nothing else in regtui imports it (an import-linter contract checks).
"""

from regtui.cli.main import main

__all__ = ["main"]
