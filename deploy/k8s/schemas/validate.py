#!/usr/bin/env python3
"""Validates the Gateway API resources (Gateway, HTTPRoute) of Kubernetes YAML
files against the schemas beside this script, strictly; kubernetes-validate has
no schemas for them (it only warns). Run by deploy/validate:

  validate.py <file.yaml>...

Every document of the group gateway.networking.k8s.io must have a schema here
(<kind>-<version>.json, made by crd-to-jsonschema.py); other documents are left
to kubernetes-validate. Prints one line per problem and exits 1 if there is any.
"""

import json
import sys
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

HERE = Path(__file__).resolve().parent
GROUP = "gateway.networking.k8s.io/"


def main() -> int:
    problems = []
    checked = 0
    for path in sys.argv[1:]:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
            if not api_version.startswith(GROUP):
                continue
            name = doc.get("metadata", {}).get("name")
            schema_file = HERE / f"{kind.lower()}-{api_version.removeprefix(GROUP)}.json"
            if not schema_file.is_file():
                problems.append(f"{path}: {kind} {name}: no schema for {api_version} (expected {schema_file.name})")
                continue
            validator = Draft7Validator(json.loads(schema_file.read_text()))
            for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
                where = ".".join(str(p) for p in error.absolute_path) or "(top)"
                problems.append(f"{path}: {kind} {name}: {where}: {error.message}")
            checked += 1
    for line in problems:
        print(line, file=sys.stderr)
    if not checked and not problems:
        print("no Gateway API resources found", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
