"""Wiring a run: task + model + strategy -> events -> storage, in the foreground or a worker."""
from .run import RunSpec, active_runs, execute, start_run, stop_run

__all__ = ["RunSpec", "active_runs", "execute", "start_run", "stop_run"]
