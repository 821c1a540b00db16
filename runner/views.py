"""Run views over storage: :class:`reasoning.run_view.RunView` fed by ``Store.events``.

Every reader of a stored run goes through here — the pages (via ``app_context.run_view``), the
CLI's ``compare``, exports and marks — so there is one way to read and fold a run."""
from __future__ import annotations

from reasoning.events import RUN_STARTED
from reasoning.provenance import recorded_by
from reasoning.run_view import RunView
from reasoning.tree import Tree
from storage import Store, placements


def open_view(store: Store, run_id: int) -> RunView:
    """A view of ``run_id`` that reads from ``store`` (nothing is read until it is asked), with
    the run's stored positions (``storage.placements``)."""
    return placements.open_view(store, run_id)


def final_tree(store: Store, run_id: int) -> Tree:
    """The run's tree as stored now."""
    return open_view(store, run_id).final()


def run_producer(store: Store, run_id: int) -> str | None:
    """Who recorded ``run_id`` when it was not Thinktree's own search (``thinktree.Trace``, a
    program whose log ``cli.py ingest`` stored …), from its ``run_started`` event; None for a run
    the app can start again (:func:`reasoning.provenance.recorded_by`)."""
    first = store.events(run_id, upto_seq=1)
    if first and first[0].type == RUN_STARTED:
        return recorded_by(first[0].payload)
    return recorded_by(store.get_run(run_id))
