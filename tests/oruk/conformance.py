#!/usr/bin/env python3
"""Open Referral UK (ORUK / HSDS-UK 3.0) conformance checks for Ensemble's /openreferral API.

Live mode (crawls a running server the way the ORUK validator does, plus behavioural checks):

    python tests/oruk/conformance.py --base-url http://127.0.0.1:PORT/openreferral \
        --schemas /path/to/shared/standards/openreferral [--origin LAT,LON]

Offline mode (runs the same validators over the ORUK validator's own mock payloads):

    python tests/oruk/conformance.py --self-test --schemas /path/to/shared/standards/openreferral

Prints one line per check (`ok ...`, `FAIL ...` followed by indented `$.json.path: message`
lines, or `skip ...`) and ends with `N passed, M failed` (`, K skipped` when some were
skipped). Exit status: 0 when nothing failed, 1 when a check failed, 2 on a usage or setup
error (e.g. format checking not available: install requirements.txt).

A skipped check proves nothing (for example the distance order is skipped when no result
carries coordinates), so `--strict` (what CI uses) makes every skip fail the run: the
skipped checks are listed by name with their reason and the exit status is 1.

Needs `jsonschema[format-nongpl]` (see requirements.txt); no other third-party package.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

try:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as exc:  # pragma: no cover - setup error
    sys.stderr.write(
        f"conformance.py: {exc}; install the pinned requirements first:\n"
        "  python3 -m venv target/oruk-venv && target/oruk-venv/bin/pip install -r tests/oruk/requirements.txt\n"
    )
    sys.exit(2)

# ---------------------------------------------------------------------------- constants

ORUK_VERSION = "HSDS-UK-3.0"
ORUK_PROFILE = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"

UK = "oruk-uk-profile-3.0/schema"
VALIDATOR = "oruk-validator-v3.0-uk"
MOCKS = f"{VALIDATOR}/mocks"


@dataclass(frozen=True)
class Collection:
    name: str
    list_item_schema: str  # relative to the --schemas dir
    single_schema: str


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection("services", f"{UK}/compiled/service_list.json", f"{UK}/compiled/service.json"),
        Collection(
            "service_at_locations",
            f"{UK}/compiled/service_at_location_list.json",
            f"{UK}/compiled/service_at_location.json",
        ),
        Collection("taxonomies", f"{UK}/taxonomy.json", f"{UK}/taxonomy.json"),
        Collection("taxonomy_terms", f"{UK}/taxonomy_term.json", f"{UK}/taxonomy_term.json"),
        # /organizations is not in the UK openapi.json; the validator's open_api.json has it
        # (optional). Its organization_list.json is the flat organization object; the compiled
        # organization.json is a strict superset of it (same 8 flat properties, plus the nested
        # organization_identifiers/attributes/services), so items are held to the stricter one.
        Collection(
            "organizations", f"{UK}/compiled/organization.json", f"{UK}/compiled/organization.json"
        ),
    )
}

ROOT_SCHEMA = f"{VALIDATOR}/api_details.json"
PAGE_KEYS_INT = ("total_items", "total_pages", "page_number", "size")
PAGE_KEYS_BOOL = ("first_page", "last_page", "empty")

ERROR_BODY_SCHEMA = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "detail"],
                "properties": {
                    "code": {"type": ["string", "integer"]},
                    "detail": {"type": "string", "minLength": 1},
                },
            },
        }
    },
}

REQUIRED_FORMATS = ("uuid", "uri", "email", "date-time")

# ---------------------------------------------------------------------------- reporting


@dataclass
class Result:
    name: str
    status: str  # "ok" | "FAIL" | "skip"
    problems: list[str] = field(default_factory=list)
    subject: tuple = ()  # what the check is about, used by --self-test to attribute failures


class Reporter:
    def __init__(self, echo: bool = True, prefix: str = "", max_problems: int = 20):
        self.echo = echo
        self.prefix = prefix
        self.max_problems = max_problems
        self.results: list[Result] = []

    def check(self, name: str, problems: Iterable[str], subject: tuple = ()) -> bool:
        problems = list(problems)
        res = Result(self.prefix + name, "FAIL" if problems else "ok", problems, subject)
        self.results.append(res)
        if self.echo:
            print(f"{res.status} {res.name}")
            for p in problems[: self.max_problems]:
                print(f"    {p}")
            if len(problems) > self.max_problems:
                print(f"    ... and {len(problems) - self.max_problems} more")
            sys.stdout.flush()
        return not problems

    def skip(self, name: str, reason: str, subject: tuple = ()) -> None:
        res = Result(self.prefix + name, "skip", [reason], subject)
        self.results.append(res)
        if self.echo:
            print(f"skip {res.name} ({reason})")

    def note(self, text: str) -> None:
        if self.echo:
            print(f"note {text}")

    def counts(self) -> tuple[int, int, int]:
        p = sum(r.status == "ok" for r in self.results)
        f = sum(r.status == "FAIL" for r in self.results)
        s = sum(r.status == "skip" for r in self.results)
        return p, f, s

    def summary_line(self) -> str:
        p, f, s = self.counts()
        return f"{p} passed, {f} failed" + (f", {s} skipped" if s else "")


# ---------------------------------------------------------------------------- schemas


def ensure_format_checking() -> None:
    """Refuse to run when jsonschema would silently ignore the formats that matter."""
    fc = Draft202012Validator.FORMAT_CHECKER
    missing = [f for f in REQUIRED_FORMATS if f not in fc.checkers]
    probes = [
        ("uri", "example_com"),
        ("email", "email-example_com"),
        ("uuid", "reg-12345"),
        ("date-time", "2024-01-01"),
    ]
    inert = [f"{fmt}({val!r})" for fmt, val in probes if fmt in fc.checkers and fc.conforms(val, fmt)]
    if missing or inert:
        sys.stderr.write(
            "conformance.py: jsonschema format checking is incomplete "
            f"(missing: {missing}, not rejecting: {inert}); install tests/oruk/requirements.txt "
            "(jsonschema[format-nongpl]) into the interpreter running this script\n"
        )
        sys.exit(2)


class Schemas:
    """Loads schema files below the --schemas dir; relative $refs resolve to sibling files."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        if not (self.root / UK / "compiled/service.json").is_file():
            raise SystemExit(
                f"conformance.py: {self.root} does not look like shared/standards/openreferral "
                f"(no {UK}/compiled/service.json)"
            )
        self._raw: dict[Path, Any] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self.registry = Registry(retrieve=self._retrieve)

    def raw(self, rel: str | Path) -> Any:
        path = (self.root / rel).resolve()
        if path not in self._raw:
            self._raw[path] = json.loads(path.read_text(encoding="utf-8"))
        return self._raw[path]

    def _retrieve(self, uri: str) -> Resource:
        parsed = urllib.parse.urlsplit(uri)
        if parsed.scheme != "file":
            raise LookupError(f"refusing to fetch non-local schema {uri}")
        path = Path(urllib.parse.unquote(parsed.path)).resolve()
        if self.root not in path.parents:
            raise LookupError(f"schema {uri} is outside {self.root}")
        return Resource.from_contents(self.raw(path), default_specification=DRAFT202012)

    def validator(self, rel: str) -> Draft202012Validator:
        if rel not in self._validators:
            path = (self.root / rel).resolve()
            schema = dict(self.raw(path))
            schema.setdefault("$id", path.as_uri())  # so "taxonomy_term.json" refs resolve
            self._validators[rel] = Draft202012Validator(
                schema,
                registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[rel]

    def inline_validator(self, schema: dict) -> Draft202012Validator:
        return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def openapi_root_schema(self) -> dict:
        spec = self.raw(f"{UK}/openapi.local.fixed.json")
        return spec["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def _trunc(text: str, n: int = 300) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def schema_errors(validator: Draft202012Validator, instance: Any, prefix: str = "$") -> list[str]:
    out = []
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    for e in errors:
        path = prefix + e.json_path[1:]
        out.append(f"{path}: {_trunc(e.message)}")
    return out


def null_errors(instance: Any, prefix: str = "$") -> list[str]:
    """HSDS/ORUK: omit a property rather than send null (null never matches the schemas' types,
    and this also covers properties the schemas do not declare)."""
    out = []

    def walk(v: Any, path: str) -> None:
        if v is None:
            out.append(f"{path}: null is not allowed (omit the property instead)")
        elif isinstance(v, dict):
            for k, x in v.items():
                key = f".{k}" if k.isidentifier() else f"[{json.dumps(k)}]"
                walk(x, path + key)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]")

    walk(instance, prefix)
    return out


def validate(validator: Draft202012Validator, instance: Any, prefix: str = "$") -> list[str]:
    errs = schema_errors(validator, instance, prefix)
    seen = {e.split(":", 1)[0] for e in errs}
    # a null that the schema already reported is not reported twice
    errs += [e for e in null_errors(instance, prefix) if e.split(":", 1)[0] not in seen]
    return errs


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def wrapper_problems(
    body: Any, requested_page: int | None, per_page: int | None
) -> list[str]:
    """Consistency of the HSDS `Page` wrapper. per_page=None means the page size the server
    used is unknown (default page size, or static mock files): it is then inferred from a
    non-last page."""
    if not isinstance(body, dict):
        return [f"$: expected a JSON object (page wrapper), got {type(body).__name__}"]
    probs = []
    for k in PAGE_KEYS_INT:
        if k not in body:
            probs.append(f"$.{k}: missing")
        elif not is_int(body[k]):
            probs.append(f"$.{k}: {body[k]!r} is not an integer")
        elif body[k] < 0:
            probs.append(f"$.{k}: {body[k]} is negative")
    for k in PAGE_KEYS_BOOL:
        if k not in body:
            probs.append(f"$.{k}: missing")
        elif not isinstance(body[k], bool):
            probs.append(f"$.{k}: {body[k]!r} is not a boolean")
    if "contents" not in body:
        probs.append("$.contents: missing")
    elif not isinstance(body["contents"], list):
        probs.append(f"$.contents: {type(body['contents']).__name__} is not an array")
    if probs:
        return probs

    ti, tp, pn, size = (body[k] for k in PAGE_KEYS_INT)
    n = len(body["contents"])
    if requested_page is not None and pn != requested_page:
        probs.append(f"$.page_number: {pn}, but page {requested_page} was requested")
    if pn < 1:
        probs.append(f"$.page_number: {pn} (pages are numbered from 1)")
    if size != n:
        probs.append(f"$.size: {size}, but $.contents has {n} items")
    if body["empty"] != (n == 0):
        probs.append(f"$.empty: {body['empty']}, but $.contents has {n} items")
    if body["first_page"] != (pn == 1):
        probs.append(f"$.first_page: {body['first_page']} on page_number {pn}")
    if body["last_page"] != (pn >= tp):
        probs.append(f"$.last_page: {body['last_page']} on page_number {pn} of total_pages {tp}")
    if n > ti:
        probs.append(f"$.contents: {n} items, more than total_items {ti}")
    eff = per_page
    if eff is None and pn < tp and n > 0:
        eff = n  # a non-last page is full: its length is the page size
    if ti == 0:
        # HSDS does not say whether an empty result has 0 pages or 1 (empty) page: accept both.
        if tp not in (0, 1):
            probs.append(f"$.total_pages: {tp}, but total_items is 0 (expected 0 or 1)")
    elif eff is not None and eff > 0:
        want = math.ceil(ti / eff)
        if tp != want:
            how = "per_page" if per_page is not None else "inferred page size"
            probs.append(f"$.total_pages: {tp}, but ceil(total_items {ti} / {how} {eff}) = {want}")
        elif per_page is not None:
            if pn < tp and n != eff:
                probs.append(f"$.contents: {n} items on non-last page {pn}, expected per_page {eff}")
            if pn == tp and tp > 0 and n != ti - (tp - 1) * eff:
                probs.append(
                    f"$.contents: {n} items on last page {pn}, expected total_items - "
                    f"(total_pages - 1) * per_page = {ti - (tp - 1) * eff}"
                )
    return probs


# ---------------------------------------------------------------------------- HTTP


@dataclass
class Response:
    url: str
    status: int | None
    headers: dict[str, str]
    body: bytes
    error: str | None = None  # network-level failure

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> tuple[Any, str | None]:
        try:
            return json.loads(self.body.decode("utf-8")), None
        except (UnicodeDecodeError, ValueError) as e:
            return None, f"body is not JSON ({e}): {_trunc(self.body.decode('utf-8', 'replace'), 120)!r}"


class HttpClient:
    def __init__(self, base_url: str, timeout: float):
        self.base = base_url.rstrip("/")
        self.timeout = timeout

    def url(self, path: str, params: dict | None = None) -> str:
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        return url

    def get(self, path: str, params: dict | None = None) -> Response:
        return self.get_url(self.url(path, params))

    def get_url(self, url: str, method: str = "GET") -> Response:
        # No Origin header: the ORUK validator fetches server-side, so ACAO must be sent anyway.
        req = urllib.request.Request(url, headers={"Accept": "application/json"}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:  # noqa: S310 (loopback)
                return Response(url, r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            return Response(url, e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
        except (urllib.error.URLError, OSError) as e:
            return Response(url, None, {}, b"", error=str(getattr(e, "reason", e)))

    def same_origin(self, url: str) -> bool:
        a, b = urllib.parse.urlsplit(self.base), urllib.parse.urlsplit(url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def http_problems(resp: Response, expect_status: int = 200) -> list[str]:
    if resp.error is not None:
        return [f"GET {resp.url}: request failed: {resp.error}"]
    probs = []
    if resp.status != expect_status:
        probs.append(f"HTTP {resp.status}, expected {expect_status}: {_trunc(resp.body.decode('utf-8', 'replace'), 200)!r}")
    ctype = (resp.header("content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        probs.append(f"Content-Type {resp.header('content-type')!r}, expected application/json")
    acao = resp.header("access-control-allow-origin")
    if acao != "*":
        probs.append(f"Access-Control-Allow-Origin {acao!r}, expected '*'")
    _, err = resp.json()
    if err:
        probs.append(err)
    return probs


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    r = 6371008.8  # mean Earth radius (IUGG), metres
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))


def coords(item: Any) -> tuple[float, float] | None:
    loc = item.get("location") if isinstance(item, dict) else None
    if not isinstance(loc, dict):
        return None
    lat, lon = loc.get("latitude"), loc.get("longitude")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon)):
        return float(lat), float(lon)
    return None


# ---------------------------------------------------------------------------- the checks


class Conformance:
    def __init__(
        self,
        client: Any,
        schemas: Schemas,
        rep: Reporter,
        per_page: int | None,
        send_per_page: int = 5,
    ):
        self.client = client
        self.s = schemas
        self.rep = rep
        self.per_page = per_page  # what pages are checked against (None: infer)
        self.send_per_page = send_per_page  # what is sent

    # -- root
    def check_root(self) -> None:
        r = self.client.get("/")
        subj = ("root",)
        self.rep.check("GET / : HTTP 200, application/json, ACAO *", http_problems(r), subj)
        body, err = r.json()
        if err:
            self.rep.skip("GET / : body checks", "no JSON body", subj)
            return
        probs = validate(self.s.validator(ROOT_SCHEMA), body)
        probs += [p for p in schema_errors(self.s.inline_validator(self.s.openapi_root_schema()), body) if p not in probs]
        self.rep.check(f"GET / : body valid against {ROOT_SCHEMA} and the UK openapi '/' schema", probs, subj)
        probs = []
        if isinstance(body, dict):
            if body.get("version") != ORUK_VERSION:
                probs.append(f"$.version: {body.get('version')!r}, expected {ORUK_VERSION!r} (else the ORUK validator falls back to HSDS-UK 1.0)")
            if body.get("profile") != ORUK_PROFILE:
                probs.append(f"$.profile: {body.get('profile')!r}, expected {ORUK_PROFILE!r}")
            ou = body.get("openapi_url")
            parts = urllib.parse.urlsplit(ou) if isinstance(ou, str) else None
            if not parts or parts.scheme not in ("http", "https") or not parts.netloc:
                probs.append(f"$.openapi_url: {ou!r} is not an absolute http(s) URL")
        else:
            probs.append("$: not an object")
        self.rep.check("GET / : version, profile and openapi_url values", probs, subj)
        ou = body.get("openapi_url") if isinstance(body, dict) else None
        if not isinstance(ou, str) or not hasattr(self.client, "same_origin"):
            return
        if not self.client.same_origin(ou):
            self.rep.skip(f"GET {ou}", "openapi_url is not on the server under test; not fetched", subj)
            return
        r = self.client.get_url(ou)
        probs = http_problems(r)
        doc, err = r.json()
        if not err and not (isinstance(doc, dict) and isinstance(doc.get("openapi"), str) and isinstance(doc.get("paths"), dict)):
            probs.append("$: not an OpenAPI document (needs string 'openapi' and object 'paths')")
        self.rep.check(f"GET {ou} (openapi_url): served as an OpenAPI JSON document", probs, subj)

    # -- one page of a collection
    def fetch_page(self, coll: Collection, page: int) -> dict | None:
        r = self.client.get(f"/{coll.name}", {"page": page, "per_page": self.send_per_page})
        label = f"GET /{coll.name}?page={page}&per_page={self.send_per_page}"
        subj = ("list", coll.name)
        self.rep.check(f"{label} : HTTP 200, application/json, ACAO *", http_problems(r), subj)
        body, err = r.json()
        if r.status != 200 or err:
            return None
        if not isinstance(body, dict):
            self.rep.check(f"{label} : page wrapper", ["$: not a JSON object"], subj)
            return None
        self.rep.check(f"{label} : page wrapper consistent", wrapper_problems(body, page, self.per_page), subj)
        self.check_items(label, coll, body)
        return body

    def check_items(self, label: str, coll: Collection, body: dict) -> None:
        items = body.get("contents")
        if not isinstance(items, list):
            return
        v = self.s.validator(coll.list_item_schema)
        probs = []
        for i, item in enumerate(items):
            probs += validate(v, item, f"$.contents[{i}]")
        rel = coll.list_item_schema.split("/schema/", 1)[-1]
        self.rep.check(f"{label} : {len(items)} items valid against {rel}", probs, ("list", coll.name))

    # -- a whole collection: page 1, a middle page, the last page, then every item by id
    def check_collection(self, coll: Collection) -> None:
        first = self.fetch_page(coll, 1)
        if first is None:
            self.rep.skip(f"/{coll.name}: further pages and items", "page 1 unusable", ("list", coll.name))
            return
        ti, tp = first.get("total_items"), first.get("total_pages")
        if not is_int(ti) or not is_int(tp):
            self.rep.skip(f"/{coll.name}: further pages and items", "page 1 has no usable totals", ("list", coll.name))
            return
        self.rep.check(
            f"/{coll.name}: collection is not empty",
            [] if ti > 0 else ["total_items is 0: the ORUK validator flags an empty feed, and nothing can be fetched by id"],
            ("list", coll.name),
        )
        pages = {1: first}
        for p in sorted({(tp + 1) // 2, tp} - {1}):
            if p >= 1:
                body = self.fetch_page(coll, p)
                if body is not None:
                    pages[p] = body
        probs = []
        for p, body in pages.items():
            for k in ("total_items", "total_pages"):
                if body.get(k) != first.get(k):
                    probs.append(f"page {p} $.{k}: {body.get(k)!r}, but page 1 says {first.get(k)!r}")
        seen: dict[str, int] = {}
        for p, body in pages.items():
            for i, item in enumerate(body.get("contents") or []):
                iid = item.get("id") if isinstance(item, dict) else None
                if isinstance(iid, str):
                    if iid in seen:
                        where = "earlier on the same page" if seen[iid] == p else f"on page {seen[iid]} too (unstable order?)"
                        probs.append(f"page {p} $.contents[{i}].id: {iid} appears {where}")
                    seen.setdefault(iid, p)
        self.rep.check(
            f"/{coll.name}: pages {sorted(pages)} agree on totals and share no ids", probs, ("list", coll.name)
        )
        for p, body in pages.items():
            for item in body.get("contents") or []:
                self.check_item(coll, item)

    def check_item(self, coll: Collection, list_item: Any) -> None:
        iid = list_item.get("id") if isinstance(list_item, dict) else None
        if not isinstance(iid, str) or not iid:
            self.rep.skip(f"GET /{coll.name}/<id>", f"list item has no string id: {_trunc(json.dumps(list_item), 80)}", ("pair", coll.name))
            return
        r = self.client.get(f"/{coll.name}/{urllib.parse.quote(iid, safe='')}")
        label = f"GET /{coll.name}/{iid}"
        rel = coll.single_schema.split("/schema/", 1)[-1]
        probs = http_problems(r)
        body, err = r.json()
        if not err:
            probs += validate(self.s.validator(coll.single_schema), body)
        self.rep.check(f"{label} : HTTP 200, ACAO *, valid against {rel}", probs, ("single", coll.name))
        if err:
            return
        probs = []
        if not isinstance(body, dict):
            probs.append("$: not a JSON object")
        else:
            if body.get("id") != iid:
                probs.append(f"$.id: {body.get('id')!r}, but {iid!r} was requested")
            for k, v in list_item.items():
                if isinstance(v, (str, int, float, bool)) and k != "id" and k in body and body[k] != v:
                    probs.append(f"$.{k}: {_trunc(repr(body[k]), 60)} differs from the list item's {_trunc(repr(v), 60)}")
        self.rep.check(f"{label} : id round-trips, scalar fields agree with the list item", probs, ("pair", coll.name))

    # -- behaviour beyond the validator's crawl
    def check_not_found(self, coll: Collection) -> None:
        for bad in (str(uuid.uuid4()), "not-a-uuid"):
            r = self.client.get(f"/{coll.name}/{urllib.parse.quote(bad, safe='')}")
            probs = http_problems(r, expect_status=404)
            body, err = r.json()
            if not err:
                probs += schema_errors(self.s.inline_validator(ERROR_BODY_SCHEMA), body)
            self.rep.check(f'GET /{coll.name}/{bad} : HTTP 404, ACAO *, {{"errors":[{{"code","detail"}}]}}', probs, ("behaviour", coll.name))

    def check_list_without_params(self, name: str) -> None:
        coll = COLLECTIONS[name]
        r = self.client.get(f"/{name}")
        label = f"GET /{name} (no query parameters; postcode is optional)"
        probs = http_problems(r)
        body, err = r.json()
        if r.status == 200 and not err:
            probs += wrapper_problems(body, 1, None)
            if isinstance(body, dict) and isinstance(body.get("contents"), list):
                v = self.s.validator(coll.list_item_schema)
                for i, item in enumerate(body["contents"]):
                    probs += validate(v, item, f"$.contents[{i}]")
        self.rep.check(f"{label} : HTTP 200, valid page", probs, ("behaviour", name))

    def check_bad_postcode(self) -> None:
        r = self.client.get("/service_at_locations", {"postcode": "NOTAPOSTCODE"})
        probs = http_problems(r, expect_status=400)
        body, err = r.json()
        if not err:
            probs += schema_errors(self.s.inline_validator(ERROR_BODY_SCHEMA), body)
        self.rep.check(
            'GET /service_at_locations?postcode=NOTAPOSTCODE : HTTP 400, {"errors":[{"code","detail"}]}',
            probs,
            ("behaviour", "service_at_locations"),
        )

    def check_proximity(self, postcode: str, proximity: str, origin: tuple[float, float] | None, tol_m: float, max_pages: int) -> None:
        coll = COLLECTIONS["service_at_locations"]
        subj = ("behaviour", coll.name)
        items: list[Any] = []
        page, total_pages = 1, 1
        while page <= min(total_pages, max_pages):
            params = {"postcode": postcode, "proximity": proximity, "page": page, "per_page": self.send_per_page}
            r = self.client.get(f"/{coll.name}", params)
            label = "GET /service_at_locations?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
            probs = http_problems(r)
            body, err = r.json()
            if r.status == 200 and not err:
                probs += wrapper_problems(body, page, self.per_page)
                if isinstance(body, dict) and isinstance(body.get("contents"), list):
                    v = self.s.validator(coll.list_item_schema)
                    for i, item in enumerate(body["contents"]):
                        probs += validate(v, item, f"$.contents[{i}]")
            ok = self.rep.check(f"{label} : HTTP 200, valid page", probs, subj)
            if not ok or not isinstance(body, dict):
                return
            items += body.get("contents") or []
            total_pages = body.get("total_pages") if is_int(body.get("total_pages")) else 1
            page += 1
        name = f"/service_at_locations?postcode={postcode}&proximity={proximity}"
        within_name = f"{name} : every located result within proximity of --origin"
        order_name = f"{name} : results ordered by increasing distance"
        if origin is None:
            for check in (within_name, order_name):
                self.rep.skip(check, "no --origin LAT,LON given", subj)
            return
        located = [(i, c) for i, c in ((i, coords(it)) for i, it in enumerate(items)) if c is not None]
        if len(items) - len(located):
            self.rep.note(f"{len(items) - len(located)} of {len(items)} results carry no location latitude/longitude; distance checks ignore them")
        if not located:
            for check in (within_name, order_name):
                why = f"none of the {len(items)} results carries location latitude/longitude" if items else "the search found no results"
                self.rep.skip(check, why, subj)
            return
        dists = [(i, haversine_m(origin, c)) for i, c in located]
        probs = []
        try:
            limit = float(proximity)
        except ValueError:
            limit = None
        if limit is not None:
            for i, d in dists:
                if d > limit * 1.005 + tol_m:
                    probs.append(f"result[{i}] (id {items[i].get('id')}): {d:.0f} m from the origin, beyond proximity {limit:g} m")
        self.rep.check(f"{within_name} ({len(dists)} located)", probs, subj)
        if len(dists) < 2:
            self.rep.skip(order_name, f"only {len(dists)} located result: nothing to order", subj)
            return
        probs = []
        for (i, d), (j, e) in zip(dists, dists[1:]):
            if e < d - max(tol_m, 0.005 * d):
                probs.append(f"result[{j}] (id {items[j].get('id')}) at {e:.0f} m comes after result[{i}] at {d:.0f} m")
        self.rep.check(f"{order_name} ({len(dists)} located, pages 1..{page - 1})", probs, subj)


    # -- paging edges, other methods, full records, the organisation filter (issue 13)
    def check_paging_edges(self, coll: Collection) -> None:
        subj = ("behaviour", coll.name)
        first = self.client.get(f"/{coll.name}", {"per_page": 2})
        body, err = first.json()
        if err or not isinstance(body, dict) or not is_int(body.get("total_pages")):
            self.rep.check(f"GET /{coll.name}?per_page=2 : a page to go past", [err or "no total_pages"], subj)
            return
        past = body["total_pages"] + 2
        r = self.client.get(f"/{coll.name}", {"per_page": 2, "page": past})
        probs = http_problems(r)
        got, err = r.json()
        if r.status == 200 and not err:
            probs += wrapper_problems(got, past, 2)
            if isinstance(got, dict):
                for k in ("total_items", "total_pages"):
                    if got.get(k) != body.get(k):
                        probs.append(f"$.{k}: {got.get(k)!r}, page 1 said {body.get(k)!r}")
                if got.get("contents") != [] or got.get("last_page") is not True:
                    probs.append("a page past the last must be empty and the last page")
        self.rep.check(f"GET /{coll.name}?per_page=2&page={past} (past the last page) : that page, empty", probs, subj)
        for params in ({"page": 0}, {"page": -1}, {"page": "abc"}, {"per_page": 0}, {"per_page": -5}):
            r = self.client.get(f"/{coll.name}", params)
            probs = http_problems(r, expect_status=400)
            got, err = r.json()
            if not err:
                probs += schema_errors(self.s.inline_validator(ERROR_BODY_SCHEMA), got)
                name = next(iter(params))
                detail = ((got or {}).get("errors") or [{}])[0].get("detail", "")
                if name not in str(detail):
                    probs.append(f"detail {detail!r} does not name {name}")
            query = urllib.parse.urlencode(params)
            self.rep.check(f"GET /{coll.name}?{query} : HTTP 400 naming the parameter", probs, subj)

    def check_other_methods(self, coll: Collection) -> None:
        for path in (f"/{coll.name}", f"/{coll.name}/{uuid.uuid4()}"):
            r = self.client.get_url(self.client.url(path), method="POST")
            probs = http_problems(r, expect_status=405)
            allow = r.header("allow") or ""
            if "GET" not in allow or "POST" in allow:
                probs.append(f"Allow {allow!r}: must name GET and not POST")
            body, err = r.json()
            if not err:
                probs += schema_errors(self.s.inline_validator(ERROR_BODY_SCHEMA), body)
            self.rep.check(f"POST {path} : HTTP 405 with Allow, ACAO *, error body", probs, ("behaviour", coll.name))

    def check_full_lists(self) -> None:
        for name in ("services", "service_at_locations"):
            coll = COLLECTIONS[name]
            r = self.client.get(f"/{name}", {"full": "true", "per_page": self.send_per_page})
            probs = http_problems(r)
            body, err = r.json()
            if r.status == 200 and not err and isinstance(body, dict):
                v = self.s.validator(coll.single_schema)
                for i, item in enumerate(body.get("contents") or []):
                    probs += validate(v, item, f"$.contents[{i}]")
            self.rep.check(f"GET /{name}?full=true : items valid as single {name}", probs, ("behaviour", name))

    def check_organization_filter(self) -> None:
        subj = ("behaviour", "services")
        body, err = self.client.get("/services", {"per_page": 1}).json()
        items = (body or {}).get("contents") if isinstance(body, dict) else None
        if err or not items:
            self.rep.skip("GET /services?organization_id=… : only that organisation's services", "no service listed", subj)
            return
        org = items[0].get("organization_id")
        r = self.client.get("/services", {"organization_id": org, "per_page": 100})
        probs = http_problems(r)
        got, err = r.json()
        if not err and isinstance(got, dict):
            others = [it.get("id") for it in got.get("contents") or [] if it.get("organization_id") != org]
            if others:
                probs.append(f"services of other organisations listed: {others[:5]}")
            if not got.get("contents"):
                probs.append("the organisation of a listed service has no services")
        self.rep.check("GET /services?organization_id=… : only that organisation's services", probs, subj)


# ---------------------------------------------------------------------------- live mode


def run_live(args: argparse.Namespace, schemas: Schemas) -> Reporter:
    rep = Reporter(max_problems=args.max_errors)
    client = HttpClient(args.base_url, args.timeout)
    c = Conformance(client, schemas, rep, per_page=args.per_page, send_per_page=args.per_page)
    print(f"# ORUK 3.0 conformance of {args.base_url} (schemas: {schemas.root})")
    c.check_root()
    for name in args.collections:
        c.check_collection(COLLECTIONS[name])
    for name in args.collections:
        c.check_not_found(COLLECTIONS[name])
    if "services" in args.collections:
        c.check_list_without_params("services")
    if "service_at_locations" in args.collections:
        c.check_list_without_params("service_at_locations")
        c.check_proximity(args.postcode, args.proximity, args.origin, args.distance_tolerance, args.max_proximity_pages)
        c.check_bad_postcode()
    for name in args.collections:
        c.check_paging_edges(COLLECTIONS[name])
        c.check_other_methods(COLLECTIONS[name])
    if "services" in args.collections and "service_at_locations" in args.collections:
        c.check_full_lists()
    if "services" in args.collections:
        c.check_organization_filter()
    return rep


# ---------------------------------------------------------------------------- self-test

SINGLE_FILES = {  # mock file -> schema it must satisfy
    "api_details.json": ROOT_SCHEMA,
    "organization.json": COLLECTIONS["organizations"].single_schema,  # Default's name
    "organization_full.json": COLLECTIONS["organizations"].single_schema,  # Fail's name
    "service_full.json": COLLECTIONS["services"].single_schema,
    "service_at_location_full.json": COLLECTIONS["service_at_locations"].single_schema,
    "taxonomy.json": COLLECTIONS["taxonomies"].single_schema,
    "taxonomy_term.json": COLLECTIONS["taxonomy_terms"].single_schema,
}
LIST_FILES = {  # mock file -> (collection, item schema)
    "service_list.json": ("services", COLLECTIONS["services"].list_item_schema),
    "service_at_location_list.json": ("service_at_locations", COLLECTIONS["service_at_locations"].list_item_schema),
    "taxonomy_list.json": ("taxonomies", COLLECTIONS["taxonomies"].list_item_schema),
    "taxonomy_term_list.json": ("taxonomy_terms", COLLECTIONS["taxonomy_terms"].list_item_schema),
    # The validator's own item schema for /organizations (flat organization). The Default
    # mock's items carry nested ids like "reg-12345" that the compiled schema rejects; see below.
    "organization_list.json": ("organizations", f"{VALIDATOR}/organization_list.json"),
}
NOT_API_RESPONSES = {"dashboard_service_details_response.json", "dashboard_services_response.json"}
FAIL_SCHEMA_EXPECTED = {"api_details.json", "service_full.json", "service_list.json", "taxonomy_term.json"}
# Fail samples byte-for-byte equal (as JSON) to their Default counterpart: nothing can catch them.
FAIL_SAME_AS_DEFAULT_EXPECTED = {"organization_full.json", "taxonomy.json", "taxonomy_list.json"}
# Known defects of the Default organization_list.json mock (upstream), kept as expectations so
# that a change of the mocks or of these checks shows up.
DEFAULT_ORG_LIST_DEFECTS = (
    "size 1 but 10 items in contents; nested organization_identifiers/attributes ids such as "
    "'reg-12345' and 'attr-001' are not UUIDs and identifier_type is missing (compiled/organization.json)"
)

COLL_FILES = {  # collection -> (list file, single file per mock set)
    "services": ("service_list.json", {"Default": "service_full.json", "Fail": "service_full.json"}),
    "service_at_locations": ("service_at_location_list.json", {"Default": "service_at_location_full.json", "Fail": "service_at_location_full.json"}),
    "taxonomies": ("taxonomy_list.json", {"Default": "taxonomy.json", "Fail": "taxonomy.json"}),
    "taxonomy_terms": ("taxonomy_term_list.json", {"Default": "taxonomy_term.json", "Fail": "taxonomy_term.json"}),
    "organizations": ("organization_list.json", {"Default": "organization.json", "Fail": "organization_full.json"}),
}


class FixtureClient:
    """Serves mock files the way the ORUK validator's mock server does: one fixed file per
    endpoint, whatever the query string or the id."""

    def __init__(self, routes: dict[str, Path]):
        self.routes = routes

    def get(self, path: str, params: dict | None = None) -> Response:
        key = path if path == "/" or path.count("/") == 1 else path.rsplit("/", 1)[0] + "/{id}"
        f = self.routes.get(key)
        if f is None:
            return Response(path, 404, {"content-type": "application/json", "access-control-allow-origin": "*"}, b'{"errors":[{"code":"404","detail":"no fixture"}]}')
        return Response(path, 200, {"content-type": "application/json", "access-control-allow-origin": "*"}, f.read_bytes())


def mock_routes(schemas: Schemas, set_name: str) -> dict[str, Path]:
    d = schemas.root / MOCKS / f"V3.0-UK-{set_name}"
    routes = {"/": d / "api_details.json"}
    for coll, (lst, single) in COLL_FILES.items():
        routes[f"/{coll}"] = d / lst
        routes[f"/{coll}/{{id}}"] = d / single[set_name]
    return routes


def run_self_test(args: argparse.Namespace, schemas: Schemas) -> Reporter:
    rep = Reporter(max_problems=args.max_errors, prefix="self-test ")
    mocks = schemas.root / MOCKS
    print(f"# ORUK 3.0 conformance self-test over {mocks}")

    def file_errors(path: Path) -> tuple[str, list[str]]:
        inst = json.loads(path.read_text(encoding="utf-8"))
        if path.name in SINGLE_FILES:
            rel = SINGLE_FILES[path.name]
            return rel, validate(schemas.validator(rel), inst)
        _, rel = LIST_FILES[path.name]
        v = schemas.validator(rel)
        errs = []
        for i, item in enumerate(inst.get("contents", [])):
            errs += validate(v, item, f"$.contents[{i}]")
        return rel + " (each item of contents)", errs

    # A. schemas: every Default API response passes; the four Fail samples are rejected.
    print("# A. schema validation of the validator's mock payloads")
    for path in sorted((mocks / "V3.0-UK-Default").glob("*.json")):
        if path.name in NOT_API_RESPONSES:
            rep.note(f"Default/{path.name}: validator dashboard payload, not an API response; not checked")
            continue
        rel, errs = file_errors(path)
        rep.check(f"Default/{path.name} passes {rel}", errs)
    org_list = json.loads((mocks / "V3.0-UK-Default/organization_list.json").read_text())
    strict = []
    for i, item in enumerate(org_list["contents"]):
        strict += validate(schemas.validator(COLLECTIONS["organizations"].list_item_schema), item, f"$.contents[{i}]")
    rep.check(
        "Default/organization_list.json is rejected by compiled/organization.json, which live runs use "
        "for /organizations items (expected: upstream mock defect)",
        [] if strict else ["unexpectedly valid: the mocks changed; revisit DEFAULT_ORG_LIST_DEFECTS"],
    )
    rep.note(f"Default/organization_list.json: {DEFAULT_ORG_LIST_DEFECTS}; first error: {strict[0] if strict else '-'}")
    for path in sorted((mocks / "V3.0-UK-Fail").glob("*.json")):
        rel, errs = file_errors(path)
        if path.name in FAIL_SCHEMA_EXPECTED:
            rep.check(f"Fail/{path.name} is rejected by {rel}", [] if errs else ["unexpectedly valid"])
            for e in errs[:6]:
                print(f"    caught: {e}")
        else:
            rep.check(f"Fail/{path.name} passes {rel} (its fault is behavioural, if any)", errs)

    # B. synthetic mutations of Default payloads: proves format/null/type checking is live.
    print("# B. synthetic mutations (format checking, null rule, wrapper types)")
    svc = json.loads((mocks / "V3.0-UK-Default/service_full.json").read_text())
    sv = schemas.validator(COLLECTIONS["services"].single_schema)
    mutations: list[tuple[str, Callable[[dict], None]]] = [
        ("url 'example_com' (format uri)", lambda d: d.__setitem__("url", "example_com")),
        ("email 'email-example_com' (format email)", lambda d: d.__setitem__("email", "email-example_com")),
        ("id 'not-a-uuid' (format uuid)", lambda d: d.__setitem__("id", "not-a-uuid")),
        ("last_modified '2024-01-01' (format date-time)", lambda d: d.__setitem__("last_modified", "2024-01-01")),
        ("description null", lambda d: d.__setitem__("description", None)),
        ("undeclared property 'x_extra': null", lambda d: d.__setitem__("x_extra", None)),
        ("name missing", lambda d: d.pop("name")),
    ]
    for label, mutate in mutations:
        d = copy.deepcopy(svc)
        mutate(d)
        errs = validate(sv, d)
        rep.check(f"service_full.json with {label} is rejected", [] if errs else ["unexpectedly valid"])
    good = {"total_items": 12, "total_pages": 3, "page_number": 3, "size": 2, "first_page": False, "last_page": True, "empty": False, "contents": [{}, {}]}
    rep.check("consistent wrapper (12 items, per_page 5, page 3) is accepted", wrapper_problems(good, 3, 5))
    for tp in (0, 1):
        empty = {"total_items": 0, "total_pages": tp, "page_number": 1, "size": 0, "first_page": True, "last_page": True, "empty": True, "contents": []}
        rep.check(f"empty result with total_pages {tp} is accepted", wrapper_problems(empty, 1, 5))
    bad_wrappers = [
        ("total_items true (boolean, not integer)", {"total_items": True}),
        ("page_number 1.0 (float)", {"page_number": 3.0}),
        ("empty 'false' (string)", {"empty": "false"}),
        ("total_pages 2 != ceil(12/5)", {"total_pages": 2}),
        ("size 5 with 2 items", {"size": 5}),
        ("last_page false on the last page", {"last_page": False}),
        ("first_page true on page 3", {"first_page": True}),
        ("page_number 2 when 3 was requested", {"page_number": 2, "last_page": False}),
        ("contents missing", {"contents": None}),
    ]
    for label, patch in bad_wrappers:
        w = {**good, **patch}
        if patch.get("contents", 0) is None:
            del w["contents"]
        rep.check(f"wrapper with {label} is rejected", [] if wrapper_problems(w, 3, 5) else ["unexpectedly accepted"])

    # C. page-local wrapper consistency of each list sample (page size unknown: inferred).
    print("# C. page wrapper consistency of each list sample (behavioural)")
    caught: dict[str, list[str]] = {}
    for set_name in ("Default", "Fail"):
        for path in sorted((mocks / f"V3.0-UK-{set_name}").glob("*_list.json")):
            probs = wrapper_problems(json.loads(path.read_text()), 1, None)
            if set_name == "Fail":
                if probs:
                    caught.setdefault(path.name, []).append("page wrapper: " + probs[0])
                rep.note(f"Fail/{path.name}: page wrapper " + ("inconsistent: " + "; ".join(probs) if probs else "consistent"))
            elif path.name == "organization_list.json":
                rep.check(f"Default/{path.name} page wrapper is inconsistent (expected: upstream mock defect)", [] if probs else ["unexpectedly consistent"])
                rep.note(f"Default/{path.name}: " + "; ".join(probs))
            else:
                rep.check(f"Default/{path.name} page wrapper is consistent", probs)

    # D. the validator-style crawl (page 1, middle, last, every item by id) over the mocks
    #    served statically, as the validator's own mock server does.
    print("# D. validator-style crawl over the mocks served statically (behavioural)")
    for set_name in ("Default", "Fail"):
        sub = Reporter(echo=False, prefix=f"{set_name} crawl ")
        crawler = Conformance(FixtureClient(mock_routes(schemas, set_name)), schemas, sub, per_page=None, send_per_page=args.per_page)
        crawler.check_root()
        for name in COLLECTIONS:
            crawler.check_collection(COLLECTIONS[name])
        failed = [r for r in sub.results if r.status == "FAIL"]
        if set_name == "Default":
            for name in ["root", *COLLECTIONS]:
                about = lambda r, name=name: r.subject == ("root",) if name == "root" else r.subject[1:] == (name,)
                mine = [r for r in failed if about(r)]
                if name == "organizations":
                    rep.check("Default crawl /organizations fails (expected: upstream mock defect)", [] if mine else ["unexpectedly clean"])
                    for r in mine[:4]:
                        print(f"    {r.name}: {r.problems[0]}")
                else:
                    label = "GET /" if name == "root" else f"/{name}"
                    rep.check(
                        f"Default crawl {label} passes ({sum(1 for r in sub.results if about(r))} checks)",
                        [f"{r.name}: {r.problems[0]}" for r in mine],
                    )
            continue
        for r in failed:
            kind = r.subject[0]
            if kind == "root":
                files = ["api_details.json"]
            else:
                lst, single = COLL_FILES[r.subject[1]]
                files = {"list": [lst], "single": [single["Fail"]], "pair": [lst, single["Fail"]]}[kind]
            for f in files:
                caught.setdefault(f, []).append(f"crawl: {r.name.removeprefix('Fail crawl ')}: {r.problems[0]}")

    # E. which Fail samples are caught, and by what
    print("# E. Fail samples caught (schema or behaviour)")
    for path in sorted((mocks / "V3.0-UK-Fail").glob("*.json")):
        reasons = []
        if path.name in FAIL_SCHEMA_EXPECTED:
            reasons.append("schema")
        reasons += caught.get(path.name, [])
        default_name = path.name.replace("organization_full", "organization")
        same = json.loads(path.read_text()) == json.loads((mocks / "V3.0-UK-Default" / default_name).read_text())
        if same:
            rep.check(f"Fail/{path.name} is identical to Default/{default_name}: nothing can catch it", [] if path.name in FAIL_SAME_AS_DEFAULT_EXPECTED else ["unexpected"])
        else:
            rep.check(f"Fail/{path.name} is caught", [] if reasons else ["not caught by any check"])
            uniq = list(dict.fromkeys(reasons))
            for why in uniq[:4]:
                print(f"    by {_trunc(why, 220)}")
            if len(uniq) > 4:
                print(f"    ... and {len(uniq) - 4} more")

    # F. the proximity checks and --strict: a check that had nothing to check is a skip, and
    #    under --strict a skip fails the run (so a feature cannot silently stop being tested).
    print("# F. distance checks and --strict over synthetic proximity results")
    sal = json.loads((mocks / "V3.0-UK-Default/service_at_location_list.json").read_text())
    for label, status_problem, strict_problem in self_test_proximity_cases(schemas, sal["contents"][0]):
        rep.check(label, [p for p in (status_problem, strict_problem) if p])
    return rep


class PagedClient:
    """Serves `items` as /service_at_locations pages, whatever the postcode."""

    def __init__(self, items: list[dict]):
        self.items = items

    def get(self, path: str, params: dict | None = None) -> Response:
        page, per = int((params or {}).get("page", 1)), int((params or {}).get("per_page", 5))
        contents = self.items[(page - 1) * per : page * per]
        tp = math.ceil(len(self.items) / per)
        body = {
            "total_items": len(self.items), "total_pages": tp, "page_number": page, "size": len(contents),
            "first_page": page == 1, "last_page": page >= tp, "empty": not contents, "contents": contents,
        }
        headers = {"content-type": "application/json", "access-control-allow-origin": "*"}
        return Response(path, 200, headers, json.dumps(body).encode())


def self_test_proximity_cases(schemas: Schemas, template: dict) -> list[tuple[str, str | None, str | None]]:
    """Runs check_proximity over synthetic results; returns (label, problem with the check
    statuses or None, problem with the --strict outcome or None) per case."""
    origin = (53.40455, -2.987154)

    def item(north_m: float | None) -> dict:
        it = copy.deepcopy(template)
        it["id"] = str(uuid.uuid4())
        if north_m is None:
            it["location"].pop("latitude", None)
            it["location"].pop("longitude", None)
        else:
            it["location"]["latitude"] = origin[0] + north_m / 111_195.0
            it["location"]["longitude"] = origin[1]
        return it

    within, order = "every located result within proximity", "results ordered by increasing distance"
    cases = [  # label, results (metres north of the origin; None: no coordinates), origin, expected statuses
        ("7 located results in distance order", [100, 200, 200, 900, 1500, 3000, 4900], origin, {within: "ok", order: "ok"}),
        ("results out of distance order", [100, 900, 200], origin, {within: "ok", order: "FAIL"}),
        ("a result beyond the proximity", [100, 200, 9000], origin, {within: "FAIL", order: "ok"}),
        ("no result with coordinates", [None, None, None], origin, {within: "skip", order: "skip"}),
        ("one located result", [None, 300, None], origin, {within: "ok", order: "skip"}),
        ("no --origin", [100, 200], None, {within: "skip", order: "skip"}),
    ]
    out = []
    for label, norths, orig, want in cases:
        sub = Reporter(echo=False)
        Conformance(PagedClient([item(n) for n in norths]), schemas, sub, per_page=5).check_proximity(
            "L1 8JQ", "5000", orig, 25.0, 20
        )
        got = {}
        for r in sub.results:
            for key in (within, order):
                if key in r.name:
                    got[key] = r.status
        pages_ok = all(r.status == "ok" for r in sub.results if "valid page" in r.name)
        status_problem = None if got == want and pages_ok else f"statuses {got}, want {want} (pages valid: {pages_ok})"
        skips = "skip" in want.values()
        fails = "FAIL" in want.values()
        rc_strict, lines = outcome(sub, strict=True)
        rc_plain, _ = outcome(sub, strict=False)
        strict_problem = None
        if rc_strict != (1 if skips or fails else 0) or rc_plain != (1 if fails else 0):
            strict_problem = f"exit status {rc_strict} with --strict and {rc_plain} without"
        elif skips and not any(order in line or within in line for line in lines if line.startswith("#   ")):
            strict_problem = f"--strict does not name the skipped check: {lines}"
        verdict = "; --strict fails the run and names it" if skips else ""
        out.append((f"proximity with {label}: {', '.join(f'{k} {v}' for k, v in want.items())}{verdict}", status_problem, strict_problem))
    return out


# ---------------------------------------------------------------------------- main


def outcome(rep: Reporter, strict: bool) -> tuple[int, list[str]]:
    """Exit status and closing lines: failed checks, then (under --strict) skipped checks
    by name, which fail the run as well, then the summary."""
    failed = [r for r in rep.results if r.status == "FAIL"]
    skipped = [r for r in rep.results if r.status == "skip"]
    lines = []
    if failed:
        lines.append("# failed checks:")
        lines += [f"#   {r.name}" for r in failed]
    if strict and skipped:
        lines.append("# skipped checks (each one fails the run under --strict: it checked nothing):")
        lines += [f"#   {r.name} ({r.problems[0] if r.problems else 'no reason given'})" for r in skipped]
    line = rep.summary_line()
    if strict and skipped and not failed:
        line += " (FAILED under --strict: skipped checks)"
    lines.append(line)
    return (1 if failed or (strict and skipped) else 0), lines


def default_schemas_dir() -> str:
    shared = os.environ.get("ENSEMBLE_SHARED_DIR")
    if not shared:
        repo = Path(__file__).resolve().parents[2]
        shared = str(repo.parent / "shared")
    return str(Path(shared) / "standards" / "openreferral")


def parse_origin(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected LAT,LON, e.g. 53.4008,-2.9790") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError("latitude must be in [-90, 90] and longitude in [-180, 180]")
    return lat, lon


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--base-url", help="API stub, e.g. http://127.0.0.1:8080/openreferral")
    mode.add_argument("--self-test", action="store_true", help="validate the ORUK validator's mocks offline")
    ap.add_argument("--schemas", default=default_schemas_dir(), help="shared/standards/openreferral dir (default: $ENSEMBLE_SHARED_DIR/standards/openreferral, else <repo>/../shared/...)")
    ap.add_argument("--per-page", type=int, default=5, help="per_page sent when paging (default 5, small so that collections span several pages)")
    ap.add_argument("--collections", default=",".join(COLLECTIONS), help="comma-separated subset of: " + ", ".join(COLLECTIONS))
    ap.add_argument("--postcode", default="L1 8JQ", help="postcode for the proximity check (default 'L1 8JQ')")
    ap.add_argument("--proximity", default="5000", help="proximity in metres for the proximity check (default 5000)")
    ap.add_argument("--origin", type=parse_origin, help="LAT,LON of --postcode's centroid as the server knows it; enables the distance/ordering checks")
    ap.add_argument("--distance-tolerance", type=float, default=25.0, help="metres of slack in distance checks (default 25, plus 0.5%%)")
    ap.add_argument("--max-proximity-pages", type=int, default=20, help="pages of proximity results to walk (default 20)")
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds per HTTP request (default 15)")
    ap.add_argument("--max-errors", type=int, default=20, help="problems printed per failed check (default 20)")
    ap.add_argument("--strict", action="store_true", help="fail the run when any check is skipped (a skipped check proves nothing; CI uses this)")
    args = ap.parse_args(argv)
    args.collections = [c.strip() for c in args.collections.split(",") if c.strip()]
    unknown = [c for c in args.collections if c not in COLLECTIONS]
    if unknown:
        ap.error(f"unknown collection(s) {unknown}")
    if args.per_page < 1:
        ap.error("--per-page must be >= 1")

    ensure_format_checking()
    schemas = Schemas(Path(args.schemas))
    rep = run_self_test(args, schemas) if args.self_test else run_live(args, schemas)
    rc, lines = outcome(rep, args.strict)
    for line in lines:
        print(line)
    return rc


if __name__ == "__main__":
    sys.exit(main())
