"""Export benchmark: the full compilation as .docx (and .pdf, .xlsx), beside a baseline run side by
side: the plainest python-docx document with the same 186 rows (three text cells, no headings,
shading, notes or contents), i.e. what the library itself costs for this much table.

    .venv/bin/python bench/bench_export.py [--repeat 7] [--pdf] [--json bench/results/export.json]

Medians in milliseconds; --pdf adds LibreOffice conversions (a few seconds each).
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable

import docx

from rcm.export.docx import compilation_docx
from rcm.export.xlsx import compendium_xlsx
from rcm.parse import read_compilation
from rcm.suggest import label_compendium


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pdf", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    c = label_compendium(read_compilation())
    texts = {s.id: s.text for s in c.statements}
    meetings = {s.id: s.meeting for s in c.statements}

    def baseline() -> bytes:
        document = docx.Document()
        table = document.add_table(rows=1, cols=3)
        for p in c.placements:
            cells = table.add_row().cells
            cells[0].text = texts[p.statement_id]
            cells[1].text = meetings[p.statement_id]
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    results = {
        "docx": timed(lambda: compilation_docx(c), args.repeat),
        "docx_baseline": timed(baseline, args.repeat),
        "xlsx": timed(lambda: compendium_xlsx(c), args.repeat),
    }
    if args.pdf:
        from rcm.export.pdf import docx_to_pdf

        ours, plain = compilation_docx(c), baseline()
        results["pdf_conversion"] = timed(lambda: docx_to_pdf(ours), 3)
        results["pdf_conversion_baseline"] = timed(lambda: docx_to_pdf(plain), 3)
    medians = {k: round(statistics.median(v), 1) for k, v in results.items()}
    report = {
        "rows": len(c.placements),
        "medians_ms": medians,
        "docx_vs_baseline": round(medians["docx"] / medians["docx_baseline"], 2),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    if args.pdf:
        report["pdf_vs_baseline"] = round(
            medians["pdf_conversion"] / medians["pdf_conversion_baseline"], 2
        )
    print(json.dumps(report, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
