"""tir_lsp"""
