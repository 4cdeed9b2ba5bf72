"""Parsers: each returns model objects, never database rows."""

from rcm.parse.compilation import parse_compilation, read_compilation, shipped_compilation

__all__ = ["parse_compilation", "read_compilation", "shipped_compilation"]
