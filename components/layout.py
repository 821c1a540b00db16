"""Node positions: the layout lives in :mod:`reasoning.layout` (the run view and the strategies'
layout hints need it below the drawing layer); re-exported here for drawing code."""
from reasoning.layout import (
                              Growth,
                              Motion,
                              Positions,
                              StableLayout,
                              ViewRange,
                              motion,
                              off_centre,
                              tidy_layout,
)

__all__ = ["Growth", "Motion", "Positions", "StableLayout", "ViewRange", "motion", "off_centre",
           "tidy_layout"]
