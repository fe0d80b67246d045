"""tir-lsp compiler core: TIR text -> IR -> passes -> C / JSON / TIR text."""

__version__ = "0.1.0"
