"""Analyses over the IR: scopes and the def-use index, dtype inference, convention checks."""
