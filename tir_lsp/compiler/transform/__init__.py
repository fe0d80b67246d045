"""Passes over the IR, one per file, found through ``registry``; ``pipeline`` orders them."""

from tir_lsp.compiler.transform.pass_api import Pass, PipelineOptions
from tir_lsp.compiler.transform.pipeline import list_passes, run_pipeline

__all__ = ["Pass", "PipelineOptions", "list_passes", "run_pipeline"]
