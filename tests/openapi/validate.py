#!/usr/bin/env python3
"""Validate OpenAPI 3.1 documents with openapi-spec-validator.

Usage: validate.py SOURCE [SOURCE ...]
  SOURCE  a URL (http:// or https://) or a file path of a JSON OpenAPI document

Each document must declare `openapi: 3.1.x` and pass OpenAPIV31SpecValidator: the OpenAPI
3.1 JSON Schema (every response has a description, ...) plus the rules a schema cannot
express (every path template variable is a declared path parameter, every $ref resolves,
...). Every problem is printed with the JSON path where it is.

Exit status: 0 when every document is valid, 1 when any is not, 2 when one cannot be read.
"""

import json
import sys
import urllib.request

from openapi_spec_validator import OpenAPIV31SpecValidator


def load(source):
    if source.startswith(("http://", "https://")):
        req = urllib.request.Request(source, headers={"Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)
    with open(source, encoding="utf-8") as f:
        return json.load(f)


def where(error):
    path = "/".join(str(p) for p in getattr(error, "absolute_path", []) or [])
    return path or "(document)"


def problems(doc):
    version = str(doc.get("openapi", "")) if isinstance(doc, dict) else ""
    if not version.startswith("3.1"):
        return [f"(document): openapi is {version or 'missing'!r}, expected 3.1.x"]
    return [f"{where(e)}: {e.message}" for e in OpenAPIV31SpecValidator(doc).iter_errors()]


def main(argv):
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = False
    for source in argv:
        try:
            doc = load(source)
        except Exception as e:  # noqa: BLE001 - any read or parse failure is reported
            print(f"validate.py: {source}: could not read the document ({type(e).__name__}: {e})",
                  file=sys.stderr)
            return 2
        found = problems(doc)
        if found:
            failed = True
            print(f"{source}: {len(found)} problem(s) against OpenAPI 3.1:")
            for p in found:
                print(f"  {p}")
        else:
            print(f"{source}: valid OpenAPI {doc['openapi']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
