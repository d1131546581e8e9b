#!/usr/bin/env python3
"""Turns a CustomResourceDefinition into the JSON schema deploy/validate checks
its resources against (check-jsonschema), strictly: every object that lists its
properties refuses others, as kubernetes-validate --strict does for built-in
kinds. The Gateway API kinds are not bundled with kubernetes-validate; their
schemas here were made from the upstream CRDs of the standard channel:

  crd-to-jsonschema.py gateway.networking.k8s.io_httproutes.yaml v1 > httproute-v1.json

(kubernetes-sigs/gateway-api, tag v1.6.1, config/crd/standard/). The CEL rules
of a CRD (x-kubernetes-validations) cannot be checked offline and are dropped.
"""

import json
import sys

import yaml


def strict(schema):
    if isinstance(schema, dict):
        schema.pop("x-kubernetes-validations", None)
        for key, value in list(schema.items()):
            schema[key] = strict(value)
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        return [strict(s) for s in schema]
    return schema


def main() -> None:
    path, version = sys.argv[1], sys.argv[2]
    crd = yaml.safe_load(open(path))
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    (v,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = strict(v["schema"]["openAPIV3Schema"])
    schema["properties"]["apiVersion"] = {"type": "string", "enum": [f"{group}/{version}"]}
    schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
    # Object metadata as Kubernetes defines it is not part of a CRD; its
    # commonest fields are checked by kubernetes-validate on other kinds.
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "maxLength": 253},
            "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "additionalProperties": False,
    }
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata", "spec"})
    bundle = crd["metadata"].get("annotations", {}).get("gateway.networking.k8s.io/bundle-version", "")
    out = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": f"{kind} {group}/{version} from the CRD {crd['metadata']['name']} {bundle} (standard channel), by crd-to-jsonschema.py",
        **schema,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
