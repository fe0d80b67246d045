"""Executors: options, the memory planner, the AOT main function (and the graph executor)."""
