"""compiler/backend"""
