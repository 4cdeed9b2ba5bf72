"""RCM Compendium: the Regional Conference on Migration's statements as data.

The public API, used by the CLI and (later) the web app::

    from rcm import read_compilation, check_compendium, Store
    compendium = read_compilation()            # the shipped 1996-2016 compilation
    findings = check_compendium(compendium)     # where the document contradicts itself
    Store("sqlite:///rcm.db", create=True).ingest(compendium)
"""

from rcm.check import Finding, check_compendium
from rcm.cite import citation
from rcm.errors import DocumentError, NotFound, Problem, RcmError, StoreError
from rcm.export import compendium_document, to_csv, to_json
from rcm.ids import assign_ids, canonical_id
from rcm.model import (
    Category,
    CategorySource,
    Compendium,
    Country,
    Meeting,
    MeetingKind,
    Placement,
    Statement,
    Subtheme,
    Theme,
)
from rcm.parse import parse_compilation, read_compilation, shipped_compilation
from rcm.store import IngestResult, Store, database_url

__all__ = [
    "Category",
    "CategorySource",
    "Compendium",
    "Country",
    "DocumentError",
    "Finding",
    "IngestResult",
    "Meeting",
    "MeetingKind",
    "NotFound",
    "Placement",
    "Problem",
    "RcmError",
    "Statement",
    "Store",
    "StoreError",
    "Subtheme",
    "Theme",
    "assign_ids",
    "canonical_id",
    "check_compendium",
    "citation",
    "compendium_document",
    "database_url",
    "parse_compilation",
    "read_compilation",
    "shipped_compilation",
    "to_csv",
    "to_json",
]
