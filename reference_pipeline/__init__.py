"""PLADA reference pipeline: flat stage scripts (see README.md in this folder)."""
