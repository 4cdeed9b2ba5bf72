"""Parsers: each returns model objects, never database rows."""

from rcm.parse.compilation import parse_compilation, read_compilation, shipped_compilation
from rcm.parse.declaration import MAX_BYTES, read_declaration, split_declaration
from rcm.parse.docx_compilation import parse_compilation_docx

__all__ = [
    "MAX_BYTES",
    "parse_compilation",
    "parse_compilation_docx",
    "read_compilation",
    "read_declaration",
    "shipped_compilation",
    "split_declaration",
]
