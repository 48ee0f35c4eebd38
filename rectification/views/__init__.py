"""Pages of the rectification engine, split by entity (orders, scorecards)."""
