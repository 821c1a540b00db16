"""Drawing for the pages: the tree figure (pure plotly), the node inspector, the status line and
the sidebar's model panel. Pages stay thin and call these; nothing here runs a search."""
