"""tir_lsp/features"""
