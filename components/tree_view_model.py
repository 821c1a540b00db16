"""Level of detail for big trees: lives in :mod:`reasoning.view_model` (re-exported here for
drawing code and older imports)."""
from reasoning.view_model import (
                                  AUTO_COLLAPSE_NODES,
                                  AUTO_DEPTH,
                                  AUTO_DEPTH_NODES,
                                  ViewOptions,
                                  default_options,
                                  layout_key,
                                  marker_id,
                                  project,
                                  projector,
                                  search_hits,
                                  subtree_size,
)

__all__ = ["AUTO_COLLAPSE_NODES", "AUTO_DEPTH", "AUTO_DEPTH_NODES", "ViewOptions", "default_options",
           "layout_key", "marker_id", "project", "projector", "search_hits", "subtree_size"]
