#!/usr/bin/env python3
"""Checks recorded live API responses against Docs/openapi.yaml.

Usage: openapi_conformance.py SPEC.yaml SAMPLES.json

SAMPLES is a JSON array of {"method", "path" (the templated OpenAPI path),
"uri", "status", "content_type", "body" (parsed JSON or null)}, written by
ConsoleTests/OpenAPIConformanceTests. Every sample must name a documented
path, method and status, and a JSON body must validate against the
documented schema (JSON Schema 2020-12, as OpenAPI 3.1 uses). Exit 0 when all
conform, 1 with one line per failure otherwise, 2 when a dependency is missing.
"""
import json
import sys

try:
    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as error:  # pragma: no cover
    print(f"missing dependency: {error}", file=sys.stderr)
    sys.exit(2)

BASE = "urn:tally-openapi"


def pointer(*parts):
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    samples = json.load(open(sys.argv[2]))
    registry = Registry().with_resource(BASE, Resource.from_contents(spec, default_specification=DRAFT202012))
    failures = []
    for s in samples:
        where = f"{s['method']} {s['uri']} → {s['status']}"
        item = spec["paths"].get(s["path"])
        if item is None:
            failures.append(f"{where}: path {s['path']} is not documented")
            continue
        operation = item.get(s["method"].lower())
        if operation is None:
            failures.append(f"{where}: method is not documented")
            continue
        response = operation["responses"].get(str(s["status"]))
        location = ["paths", s["path"], s["method"].lower(), "responses", str(s["status"])]
        if response is None:
            failures.append(f"{where}: status is not documented")
            continue
        if "$ref" in response:
            location = response["$ref"][2:].split("/")
            response = spec
            for part in location:
                response = response[part]
        if s["body"] is None:
            continue
        content = response.get("content", {})
        if "application/json" not in content:
            failures.append(f"{where}: a JSON body where none is documented")
            continue
        ref = BASE + "#/" + pointer(*location, "content", "application/json", "schema")
        validator = Draft202012Validator({"$ref": ref}, registry=registry)
        for error in validator.iter_errors(s["body"]):
            failures.append(f"{where}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
    for failure in failures:
        print(failure)
    print(f"{len(samples)} responses checked, {len(failures)} failures", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
