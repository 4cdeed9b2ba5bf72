"""Synthetic compendia for benchmarks: N statements written from the compilation's own vocabulary.

Text comes from a word bigram model of the real statements (so word frequencies, phrases and
lengths look like the compilation's); each synthetic statement copies the meeting, placements and
cross-references of a randomly chosen real statement, and gets a random category. Deterministic for
a given seed. The real compilation is ingested first, so themes, sub-themes and meetings are real.

    .venv/bin/python bench/synthetic.py 100000 bench/data/synthetic-100k.db
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import insert

from rcm.analyze import index_body
from rcm.model import Compendium
from rcm.parse import read_compilation
from rcm.store import Store, schema
from rcm.store.search_index import Indexer, subtheme_bit, theme_bit

CATEGORIES = ["principle", "understanding", "commitment", None]


class Writer:
    def __init__(self, compendium: Compendium, seed: int) -> None:
        self.rng = random.Random(seed)
        self.follow: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        self.lengths: list[int] = []
        for s in compendium.statements:
            words = s.text.split()
            self.lengths.append(len(words))
            self.starts.append(words[0])
            for a, b in itertools.pairwise(words):
                self.follow[a].append(b)
        self.templates = [(s, compendium.placements_of(s.id)) for s in compendium.statements]
        self.meetings = {m.code: m for m in compendium.meetings}

    def text(self) -> str:
        n = self.rng.choice(self.lengths)
        word = self.rng.choice(self.starts)
        out = [word]
        while len(out) < n:
            nxt = self.follow.get(word)
            word = self.rng.choice(nxt) if nxt else self.rng.choice(self.starts)
            out.append(word)
        return " ".join(out)


def build(n: int, path: Path, seed: int = 2017, chunk: int = 20_000) -> None:
    compendium = read_compilation()
    if path.exists():
        path.unlink()
    store = Store(f"sqlite:///{path}", create=True)
    store.ingest(compendium)
    writer = Writer(compendium, seed)
    started = time.perf_counter()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=OFF")
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
    for base in range(0, n, chunk):
        statements = []
        with store.engine.begin() as conn:
            indexer = Indexer(conn)
            for i in range(base, min(n, base + chunk)):
                template, placements = writer.rng.choice(writer.templates)
                meeting = writer.meetings[template.meeting]
                text = writer.text()
                sid = f"{meeting.code}-S{i:07d}"
                category = writer.rng.choice(CATEGORIES)
                statements.append(
                    {
                        "id": sid,
                        "meeting": meeting.code,
                        "text": text,
                        "heading": None,
                        "lang": "en",
                        "text_es": None,
                        "category": category,
                        "category_source": "suggested" if category else None,
                        "category_confidence": None,
                        "normal_form": "",
                        "source_id": None,
                    }
                )
                themes = subthemes = xrefs = 0
                for p in placements:
                    themes |= theme_bit(p.theme)
                    subthemes |= subtheme_bit(p.theme, p.subtheme)
                    for t in p.also_relevant:
                        xrefs |= theme_bit(t)
                indexer.add(
                    sid,
                    index_body(text),
                    meeting.number,
                    meeting.code,
                    meeting.year,
                    category,
                    themes,
                    subthemes,
                    xrefs,
                )
            conn.execute(insert(schema.statements), statements)
            indexer.flush()
        done = min(n, base + chunk)
        rate = done / (time.perf_counter() - started)
        print(f"\r{done:,} / {n:,} statements ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO statement_fts(statement_fts) VALUES ('optimize')")
        conn.exec_driver_sql("ANALYZE")
    store.close()
    print(f"\nbuilt {path} in {time.perf_counter() - started:,.0f} s", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("path", type=Path)
    ap.add_argument("--seed", type=int, default=2017)
    args = ap.parse_args()
    args.path.parent.mkdir(parents=True, exist_ok=True)
    build(args.n, args.path, args.seed)


if __name__ == "__main__":
    main()
