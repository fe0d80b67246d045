"""compiler/transform"""
