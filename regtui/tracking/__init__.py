"""Your own training loop in regtui: ``regtui.track()`` records it in the run store as it trains.

:mod:`.api` is the loop's side (``track``, :class:`~.api.Run`); :mod:`.storing` makes the run's
record; :mod:`.scalars` gathers the logged values into events. Torch-free to import.
"""

from regtui.tracking.api import PitfallWarning, Run, TrackWarning, track

__all__ = ["PitfallWarning", "Run", "TrackWarning", "track"]
