#!/usr/bin/env python3
"""Check the demo programme's Atom feed with feedparser.

Usage: atom.py BASE_URL DEMO_DB
  BASE_URL  where the demo server answers, e.g. http://127.0.0.1:8080
  DEMO_DB   the demo's SQLite database (to find the demo programme's id)

The feed at /programmes/{id}/feed.atom must parse as Atom 1.0 (`version == "atom10"`)
without a well-formedness problem (`bozo == 0`); the feed must have its id, title, updated,
a rel="self" link and an author; every entry its id (urn:uuid:), title, updated, link and
content; there must be at least one entry; and every entry's title must appear on the
programme's public page or its public board (the feed shows nothing that is not public).

Exit status: 0 when all holds, 1 otherwise.
"""

import html
import sqlite3
import sys
import urllib.request

import feedparser

PROGRAMME = "Music and Mind, Liverpool 2026"


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.headers.get("Content-Type", ""), r.read()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    base, db = sys.argv[1].rstrip("/"), sys.argv[2]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT id FROM programmes WHERE name = ?", (PROGRAMME,)).fetchone()
    if row is None:
        print(f"no programme named {PROGRAMME!r} in {db}", file=sys.stderr)
        return 1
    pid = row[0]
    problems = []
    ctype, body = fetch(f"{base}/programmes/{pid}/feed.atom")
    if not ctype.startswith("application/atom+xml"):
        problems.append(f"Content-Type is {ctype!r}, not application/atom+xml")
    d = feedparser.parse(body)
    if d.version != "atom10":
        problems.append(f"version is {d.version!r}, not 'atom10'")
    if d.bozo:
        problems.append(f"bozo: {d.get('bozo_exception')!r}")
    f = d.feed
    for key in ("id", "title", "updated", "author"):
        if not f.get(key):
            problems.append(f"the feed has no {key}")
    if not any(l.get("rel") == "self" for l in f.get("links", [])):
        problems.append("the feed has no rel=self link")
    if not d.entries:
        problems.append("the feed has no entries")
    pages = ""
    for path in ("about", "board"):
        _, page = fetch(f"{base}/programmes/{pid}/{path}")
        pages += html.unescape(page.decode("utf-8"))
    for e in d.entries:
        for key in ("id", "title", "updated", "link"):
            if not e.get(key):
                problems.append(f"entry {e.get('id')!r} has no {key}")
        if not e.get("id", "").startswith("urn:uuid:"):
            problems.append(f"entry id {e.get('id')!r} is not a urn:uuid:")
        if not (e.get("content") or e.get("summary")):
            problems.append(f"entry {e.get('id')!r} has no content")
        if e.get("title") and e.title not in pages:
            problems.append(f"entry title {e.title!r} is not on the public page or board")
    for p in problems:
        print(f"atom.py: {p}", file=sys.stderr)
    if not problems:
        print(f"atom.py: the feed of {PROGRAMME!r} is valid Atom 1.0 with {len(d.entries)} public entries")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
