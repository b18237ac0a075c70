"""Compiled twins of ``sikker.core`` modules; import them through core only."""
