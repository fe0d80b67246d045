"""Mutation fuzzing of the whole tool chain: reader, analysis, printer, passes, C backend,
`tir-lsp check` and the JSON reader. Run ``python -m tests.fuzzing --help``."""
