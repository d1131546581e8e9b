#!/usr/bin/env python3
"""Checks what schemas cannot: that deploy/ agrees with itself and with the code.

Run by deploy/validate (with the .tools Python, which has PyYAML):

  check-manifests.py <repository root> [<rendered kustomize output>]

Covers the Dockerfiles against the workspace and the web app, compose.yaml (healthchecks,
depends_on conditions, per-service secrets, networks, the configuration files
it mounts), the kustomize base (listed files, the ConfigMaps generated from the
files of deploy/nats and deploy/mongo, probes, resources, replicas, Secret and
ConfigMap references, Service selectors, autoscalers), the HTTPRoute (every
route of both OpenAPI documents, as the web app's generated types name them,
reaches its API by method; everything else the web app) and the NetworkPolicies,
whose effective allow-list must equal the intended one.
Prints one line per problem and exits 1 if there is any.
"""

import fnmatch
import re
import sys
import tomllib
from pathlib import Path

import yaml

problems: list[str] = []


def problem(where: str, message: str) -> None:
    problems.append(f"{where}: {message}")


SERVICES = {"command-api": 8080, "query-api": 8081, "projector": 8082}
ADDR_VARS = {
    "command-api": "FLOW_COMMAND_API_ADDR",
    "query-api": "FLOW_QUERY_API_ADDR",
    "projector": "FLOW_PROJECTOR_ADDR",
}
USES_MONGO = {"projector", "query-api"}


def load_all(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d]


# --------------------------------------------------------------------------- Dockerfile


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether a .dockerignore excludes path (last matching pattern wins; a
    pattern matching a folder matches everything in it)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        if pattern.startswith("**/"):
            tail = pattern[3:]
            hit = any(fnmatch.fnmatchcase("/".join(parts[i : j + 1]), tail)
                      for i in range(len(parts)) for j in range(i, len(parts)))
        else:
            hit = any(fnmatch.fnmatchcase(c, pattern.rstrip("/")) for c in candidates)
        if hit:
            ignored = not negate
    return ignored


def check_dockerfile(root: Path) -> None:
    where = "deploy/Dockerfile"
    text = (root / "deploy/Dockerfile").read_text()
    patterns = [
        line.strip() for line in (root / "deploy/Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    members = tomllib.loads((root / "Cargo.toml").read_text())["workspace"]["members"]
    needed = ["Cargo.toml", "Cargo.lock", "deploy/healthcheck"]
    for member in members:
        needed += [f"{member}/Cargo.toml", f"{member}/src/lib.rs", f"{member}/src/main.rs"]
    for path in needed:
        if dockerignored(path, patterns):
            problem("deploy/Dockerfile.dockerignore", f"keeps {path} out of the build context")
    for path in ("target/release/x", ".git/HEAD", ".tools/bin/python", ".run/logs/x", "shared/target/x"):
        if not dockerignored(path, patterns):
            problem("deploy/Dockerfile.dockerignore", f"lets {path.rsplit('/', 1)[0]}/ into the build context")
    # The dependency layer: either cargo-chef, or every member's manifest with stubs.
    chef = "cargo chef prepare" in text and re.search(r"cargo chef cook --release --locked", text)
    manual = all(
        re.search(rf"^COPY {re.escape(m)}/Cargo\.toml {re.escape(m)}/$", text, re.M) for m in members
    )
    if not (chef or manual):
        problem(where, "no cached dependency layer: use cargo chef prepare/cook or copy every member's Cargo.toml first")
    builds = re.findall(r"cargo build --release --locked([^;&\n]*)", text)
    if not any("--bins" in b or all(f"--bin {x}" in b for x in SERVICES) for b in builds):
        problem(where, "the services must be built with cargo build --release --locked --bin ... for all three")
    for binary in SERVICES:
        if not (root / binary / "src/main.rs").exists():
            problem(where, f"{binary}/src/main.rs is missing: is {binary} still a binary?")
        if f"target/release/{binary}" not in text:
            problem(where, f"the image does not get the {binary} binary")
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    if not stages or not re.match(r"(debian:\$\{DEBIAN_RELEASE\}-slim|debian:\w+-slim|gcr\.io/distroless/cc)", stages[-1]):
        problem(where, f"the runtime stage should be Debian slim or distroless/cc, not {stages[-1:]}")
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problem(where, "the runtime must run as a non-root user")
    if re.search(r"^ENTRYPOINT", text, re.M):
        problem(where, "no ENTRYPOINT: the container command chooses the binary")


def check_web_dockerfile(root: Path) -> None:
    where = "deploy/web/Dockerfile"
    text = (root / where).read_text()
    patterns = [
        line.strip() for line in (root / "deploy/web/Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for path in ("web/package.json", "web/package-lock.json", "web/index.html", "web/src/main.tsx",
                 "deploy/web/nginx.conf", "deploy/web/headers.conf"):
        if not (root / path).exists():
            problem(where, f"{path} does not exist")
        if dockerignored(path, patterns):
            problem("deploy/web/Dockerfile.dockerignore", f"keeps {path} out of the build context")
    for path in ("web/node_modules/x", "web/dist/index.html", "target/debug/x", ".git/HEAD", ".tools/bin/python"):
        if not dockerignored(path, patterns):
            problem("deploy/web/Dockerfile.dockerignore", f"lets {path.rsplit('/', 1)[0]}/ into the build context")
    # The packages in their own layer, from the lock file, before the sources.
    lock = text.find("COPY web/package.json web/package-lock.json")
    if lock < 0 or lock > text.find("npm ci") or text.find("npm ci") > text.find("COPY web/ "):
        problem(where, "copy package.json and package-lock.json, run npm ci, then copy the sources")
    if "npm run build" not in text:
        problem(where, "the app must be built with npm run build (type checks, then vite build)")
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    if not stages or not stages[-1].startswith("nginxinc/nginx-unprivileged:"):
        problem(where, f"the runtime stage should be nginx (nginxinc/nginx-unprivileged), not {stages[-1:]}")
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not users or users[-1].split(":")[0] in ("0", "root"):
        problem(where, "the runtime must run as a non-root user")
    if "--from=build /web/dist /usr/share/nginx/html" not in text:
        problem(where, "the image must serve the built dist/ from /usr/share/nginx/html")
    conf = (root / "deploy/web/nginx.conf").read_text()
    if not re.search(r"listen\s+8080;", conf) or "location = /healthz" not in conf:
        problem("deploy/web/nginx.conf", "nginx must listen on 8080 and answer /healthz")


# --------------------------------------------------------------------------- compose


def check_compose(root: Path) -> None:
    where = "deploy/compose.yaml"
    compose = yaml.safe_load((root / "deploy/compose.yaml").read_text())
    services = compose.get("services", {})
    top_secrets = compose.get("secrets", {})
    readme = (root / "deploy/secrets/README.md").read_text()
    auth_vars = set(re.findall(r"password:\s*\$(\w+)", (root / "deploy/nats/auth.conf").read_text()))
    nats_users = set(re.findall(r'user:\s*"([\w-]+)"', (root / "deploy/nats/auth.conf").read_text()))

    for name, secret in top_secrets.items():
        file = secret.get("file", "")
        if not file.startswith("./secrets/"):
            problem(where, f"secret {name} must be a file under ./secrets/, not {file!r}")
        if Path(file).name not in readme:
            problem("deploy/secrets/README.md", f"does not explain how to create {Path(file).name}")

    for name in ("nats", "mongo", "mongo-init", *SERVICES):
        if name not in services:
            problem(where, f"service {name} is missing")
    for name, svc in services.items():
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        own = set(svc.get("secrets") or [])
        for secret in own:
            if secret not in top_secrets:
                problem(where, f"{name} uses secret {secret}, which is not declared")
        for var, value in env.items():
            if var.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                if str(value).removeprefix("/run/secrets/") not in own:
                    problem(where, f"{name}: {var}={value} names a secret the service does not mount")
        for dep, spec in (svc.get("depends_on") or {}).items():
            condition = spec.get("condition") if isinstance(spec, dict) else None
            if condition not in ("service_healthy", "service_completed_successfully", "service_started"):
                problem(where, f"{name} depends on {dep} without a condition")
            if condition == "service_healthy" and "healthcheck" not in services.get(dep, {}):
                problem(where, f"{name} waits for {dep} to be healthy, but {dep} has no healthcheck")

    for name, port in SERVICES.items():
        svc = services.get(name)
        if not svc:
            continue
        env = svc.get("environment") or {}
        test = " ".join(map(str, (svc.get("healthcheck") or {}).get("test", [])))
        if str(port) not in test or not re.search(r"/(healthz|readyz)", test):
            problem(where, f"{name}'s healthcheck must probe /healthz or /readyz on {port}")
        if svc.get("command") != [name]:
            problem(where, f"{name} must run the {name} binary (command: [{name}])")
        if env.get(ADDR_VARS[name]) != f"0.0.0.0:{port}":
            problem(where, f"{name}: {ADDR_VARS[name]} must be 0.0.0.0:{port}")
        if env.get("FLOW_NATS_URL") != "nats://nats:4222":
            problem(where, f"{name}: FLOW_NATS_URL must be nats://nats:4222")
        if env.get("FLOW_NATS_USER") != name or name not in nats_users:
            problem(where, f"{name}: FLOW_NATS_USER must be {name}, a user of deploy/nats/auth.conf")
        if "FLOW_NATS_PASSWORD_FILE" not in env:
            problem(where, f"{name}: FLOW_NATS_PASSWORD_FILE is missing")
        deps = svc.get("depends_on") or {}
        if (deps.get("nats") or {}).get("condition") != "service_healthy":
            problem(where, f"{name} must wait for nats: service_healthy")
        networks = set(svc.get("networks") or [])
        if name in USES_MONGO:
            if "FLOW_MONGODB_URI_FILE" not in env:
                problem(where, f"{name}: FLOW_MONGODB_URI_FILE is missing")
            if (deps.get("mongo") or {}).get("condition") != "service_healthy":
                problem(where, f"{name} must wait for mongo: service_healthy")
            if (deps.get("mongo-init") or {}).get("condition") != "service_completed_successfully":
                problem(where, f"{name} must wait for mongo-init to complete")
        elif "store" in networks or any(v.startswith("FLOW_MONGODB") for v in env):
            problem(where, f"{name} must not reach MongoDB")
        if name in ("command-api", "query-api") and "FLOW_JWT_SECRET_FILE" not in env:
            problem(where, f"{name}: FLOW_JWT_SECRET_FILE is missing")

    nats = services.get("nats", {})
    script = " ".join(map(str, nats.get("entrypoint") or []))
    for var in auth_vars:
        if not re.search(rf"\bexport\b[^\n]*\b{var}\b", script):
            problem(where, f"nats does not export {var}, which deploy/nats/auth.conf needs")
    mounts = " ".join(nats.get("volumes") or [])
    for conf in ("nats.conf", "auth.conf"):
        if f"./nats/{conf}:" not in mounts:
            problem(where, f"nats must mount deploy/nats/{conf}")
    init = " ".join((services.get("mongo-init") or {}).get("volumes") or [])
    if "./mongo:/flow/mongo:" not in init:
        problem(where, "mongo-init must mount deploy/mongo at /flow/mongo")
    if "mongo" in services and "store" not in (services["mongo"].get("networks") or []):
        problem(where, "mongo must be on the store network")
    for internal in ("events", "store"):
        if not (compose.get("networks", {}).get(internal) or {}).get("internal"):
            problem(where, f"network {internal} must be internal")
    for name in ("nats", "mongo", "mongo-init"):
        if services.get(name, {}).get("ports"):
            problem(where, f"{name} must not publish ports")


# --------------------------------------------------------------------------- kustomize base


# The files the generated ConfigMaps must ship, key by key: the very files the rest
# of deploy/validate tests (nats-server -t, check-permissions.py, shellcheck, the
# fake mongosh) and compose mounts. Kustomize reads them where they are, through
# the kustomizations of deploy/nats and deploy/mongo, so there is no copy to drift.
CONFIG_MAPS = {
    "nats-config": {"nats.conf": "deploy/nats/cluster.conf", "auth.conf": "deploy/nats/auth.conf"},
    "mongo-setup": {"setup.sh": "deploy/mongo/setup.sh", "setup.js": "deploy/mongo/setup.js"},
    "web-config": {"config.json": "deploy/web/config.json"},
}


def load_kustomization(root: Path, folder: Path, docs: list[dict], generated: dict) -> None:
    """Reads the kustomization in folder and, recursively, the folders it lists
    as resources: their resource documents go into docs, and each generated
    ConfigMap into generated as {key: file, relative to root}."""
    where = (folder / "kustomization.yaml").relative_to(root).as_posix()
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    known = {"apiVersion", "kind", "namespace", "labels", "resources", "configMapGenerator", "images"}
    for key in set(kustomization) - known:
        problem(where, f"unexpected field {key} (deploy/validate checks only {sorted(known)})")
    for resource in kustomization.get("resources", []):
        path = (folder / resource).resolve()
        if "secret" in resource.lower() and "example" in resource.lower():
            problem(where, f"{resource} must not be listed: it is an example")
        if path.is_dir() and (path / "kustomization.yaml").is_file():
            load_kustomization(root, path, docs, generated)
        elif path.is_file():
            docs.extend(load_all(path))
        else:
            problem(where, f"lists {resource}, which is neither a file nor a folder with a kustomization.yaml")
    for generator in kustomization.get("configMapGenerator", []):
        name = generator["name"]
        if name in generated:
            problem(where, f"configMapGenerator {name} is generated twice")
        files = generated.setdefault(name, {})
        for entry in generator.get("files", []):
            key, _, file = entry.rpartition("=")
            path = (folder / file).resolve()
            if not path.is_file():
                problem(where, f"configMapGenerator {name}: {entry} does not exist")
                continue
            files[key or path.name] = path.relative_to(root).as_posix()


def check_kustomization(root: Path) -> tuple[list[dict], set]:
    base = root / "deploy/k8s/base"
    where = "deploy/k8s/base/kustomization.yaml"
    docs: list[dict] = []
    generated: dict[str, dict[str, str]] = {}
    load_kustomization(root, base, docs, generated)
    listed = {
        (base / r).resolve() for r in yaml.safe_load((base / "kustomization.yaml").read_text()).get("resources", [])
    }
    for path in base.glob("*.yaml"):
        if path.resolve() not in listed and path.name not in ("kustomization.yaml", "secret.example.yaml"):
            problem(where, f"{path.name} is in the base but not listed")
    for name, want in CONFIG_MAPS.items():
        got = generated.get(name)
        if got is None:
            problem(where, f"the ConfigMap {name} is not generated")
        elif got != want:
            problem(where, f"the ConfigMap {name} must be generated from {want}, not {got}")
    for doc in docs:
        doc.setdefault("metadata", {})
    return docs, set(generated)


def containers(pod: dict) -> list[dict]:
    return (pod.get("initContainers") or []) + (pod.get("containers") or [])


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env") or []}


def check_workloads(docs: list[dict], generated: set, secrets: dict) -> None:
    by_kind: dict[str, dict[str, dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"].get("name")] = doc
    deployments = by_kind.get("Deployment", {})
    statefulsets = by_kind.get("StatefulSet", {})
    workloads = {**deployments, **statefulsets}

    for name, port in SERVICES.items():
        where = f"Deployment {name}"
        d = deployments.get(name)
        if not d:
            problem("deploy/k8s/base", f"{where} is missing")
            continue
        spec = d["spec"]
        # Every service runs two: the projector's second one stands by
        # (a lease decides which applies; see its README).
        if spec.get("replicas") != 2:
            problem(where, "replicas must be 2")
        (c,) = [c for c in spec["template"]["spec"]["containers"] if c["name"] == name]
        env = env_of(c)
        if c.get("command") != [name]:
            problem(where, f"must run the {name} binary")
        if (c.get("readinessProbe") or {}).get("httpGet", {}).get("path") != "/readyz":
            problem(where, "readinessProbe must be GET /readyz")
        if (c.get("livenessProbe") or {}).get("httpGet", {}).get("path") != "/healthz":
            problem(where, "livenessProbe must be GET /healthz")
        res = c.get("resources") or {}
        if res.get("requests", {}).get("memory") != "64Mi" or res.get("limits", {}).get("memory") != "128Mi":
            problem(where, "memory must be requested 64Mi and limited to 128Mi")
        if env.get(ADDR_VARS[name]) != f"0.0.0.0:{port}":
            problem(where, f"{ADDR_VARS[name]} must be 0.0.0.0:{port}")
        if port not in [p.get("containerPort") for p in c.get("ports") or []]:
            problem(where, f"must expose containerPort {port}")
        if env.get("FLOW_NATS_USER") != name or "FLOW_NATS_PASSWORD_FILE" not in env:
            problem(where, f"FLOW_NATS_USER must be {name}, with FLOW_NATS_PASSWORD_FILE")
        if name in ("command-api", "projector") and env.get("FLOW_STREAM_REPLICAS") != "3":
            problem(where, "FLOW_STREAM_REPLICAS must be 3 (the stream spans the 3 NATS nodes)")
        if (name in USES_MONGO) != ("FLOW_MONGODB_URI_FILE" in env):
            problem(where, "FLOW_MONGODB_URI_FILE must be set exactly for projector and query-api")
        if name in ("command-api", "query-api") and "FLOW_JWT_SECRET_FILE" not in env:
            problem(where, "FLOW_JWT_SECRET_FILE is missing")

    for name, replicas in (("nats", 3), ("mongo", 3)):
        s = statefulsets.get(name)
        if not s or s["spec"].get("replicas") != replicas:
            problem("deploy/k8s/base", f"StatefulSet {name} with {replicas} replicas is missing")
    mongo = statefulsets.get("mongo")
    if mongo:
        args = " ".join(a for c in mongo["spec"]["template"]["spec"]["containers"] for a in c.get("args") or [])
        for needed in ("--replSet=rs0", "--keyFile="):
            if needed not in args:
                problem("StatefulSet mongo", f"mongod needs {needed}")

    for name, w in workloads.items():
        where = f"{w['kind']} {name}"
        pod = w["spec"]["template"]["spec"]
        labels = w["spec"]["template"]["metadata"].get("labels", {})
        selector = w["spec"]["selector"].get("matchLabels", {})
        if any(labels.get(k) != v for k, v in selector.items()):
            problem(where, "the selector does not match the pod labels")
        psc = pod.get("securityContext") or {}
        if not psc.get("runAsNonRoot") or (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problem(where, "the pod must set runAsNonRoot and the RuntimeDefault seccomp profile")
        if pod.get("automountServiceAccountToken") is not False:
            problem(where, "automountServiceAccountToken must be false")
        for c in containers(pod):
            csc = c.get("securityContext") or {}
            if csc.get("allowPrivilegeEscalation") is not False or "ALL" not in (csc.get("capabilities") or {}).get("drop", []):
                problem(where, f"container {c['name']}: no privilege escalation, drop ALL capabilities")
            if not csc.get("readOnlyRootFilesystem"):
                problem(where, f"container {c['name']}: readOnlyRootFilesystem")
            res = c.get("resources") or {}
            if not res.get("requests", {}).get("memory") or not res.get("limits", {}).get("memory"):
                problem(where, f"container {c['name']}: memory request and limit are required")
            if "readinessProbe" not in c and c["name"] not in ("setup", "keyfile"):
                problem(where, f"container {c['name']}: readinessProbe is missing")
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref and ref.get("key") not in secrets.get(ref.get("name"), set()):
                    problem(where, f"env {e['name']} reads {ref.get('name')}/{ref.get('key')}, not in secret.example.yaml")
        for v in pod.get("volumes") or []:
            if "configMap" in v and v["configMap"]["name"] not in generated:
                problem(where, f"volume {v['name']} uses ConfigMap {v['configMap']['name']}, which is not generated")
            if "secret" in v:
                name_ = v["secret"]["secretName"]
                if name_ not in secrets:
                    problem(where, f"volume {v['name']} uses Secret {name_}, not in secret.example.yaml")
                for item in v["secret"].get("items") or []:
                    if item["key"] not in secrets.get(name_, set()):
                        problem(where, f"volume {v['name']} uses {name_}/{item['key']}, not in secret.example.yaml")
        for c in containers(pod):
            for var, value in env_of(c).items():
                if var.endswith("_FILE") and value and value.startswith("/var/run/secrets/flow/"):
                    (vol,) = [v for v in pod["volumes"] if v["name"] == "secrets"] or [None]
                    key = value.rsplit("/", 1)[1]
                    if not vol or key not in secrets.get(vol["secret"]["secretName"], set()):
                        problem(where, f"{var}={value}: no such key in the mounted Secret")

    for name, svc in by_kind.get("Service", {}).items():
        selector = svc["spec"].get("selector", {})
        targets = [
            w for w in workloads.values()
            if all(w["spec"]["template"]["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())
        ]
        if not targets:
            problem(f"Service {name}", f"selects no workload ({selector})")
        for port in svc["spec"].get("ports", []):
            target = port.get("targetPort")
            names = {p.get("name") for w in targets for c in w["spec"]["template"]["spec"]["containers"] for p in c.get("ports") or []}
            if isinstance(target, str) and target not in names:
                problem(f"Service {name}", f"targetPort {target} is no container port name")

    hpas = by_kind.get("HorizontalPodAutoscaler", {})
    for name in ("command-api", "query-api"):
        hpa = hpas.get(name)
        if not hpa or hpa.get("apiVersion") != "autoscaling/v2":
            problem("deploy/k8s/base", f"autoscaling/v2 HorizontalPodAutoscaler {name} is missing")
            continue
        ref = hpa["spec"]["scaleTargetRef"]
        if ref.get("kind") != "Deployment" or ref.get("name") != name:
            problem(f"HorizontalPodAutoscaler {name}", "must scale its Deployment")
    if "projector" in {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()}:
        problem("HorizontalPodAutoscaler", "the projector must never be scaled")


# --------------------------------------------------------------------------- HTTPRoute


OPERATIONAL = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/status"}


def api_routes(root: Path, name: str) -> list[tuple[str, str]]:
    """(method, path) of every route in an API's OpenAPI document, read from the
    web app's types generated from it (web/src/api/<name>.ts; the end-to-end run
    checks they still match the running service)."""
    text = (root / f"web/src/api/{name}.ts").read_text()
    paths = text.split("export type webhooks")[0]
    routes = []
    for block in re.split(r'\n    "(?=/)', paths)[1:]:
        path = block.split('"', 1)[0]
        if path in OPERATIONAL:
            continue
        for method in re.findall(r"^        (get|put|post|delete|patch|head): operations", block, re.M):
            routes.append((method.upper(), path))
    return routes


def route_backend(route: dict, method: str, path: str) -> tuple[str, int] | None:
    """The backend Gateway API sends a request to: among the matches of every
    rule, the longest path prefix (by path elements) wins, then one with a
    method match over one without."""
    best, backend = None, None
    for rule in route["spec"].get("rules", []):
        for match in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
            p = (match.get("path") or {"type": "PathPrefix", "value": "/"})
            value = p.get("value", "/")
            if p.get("type", "PathPrefix") == "Exact":
                hit = path == value
            else:
                prefix = value.rstrip("/")
                hit = path == prefix or path.startswith(prefix + "/") or prefix == ""
            if not hit or match.get("method", method) != method or match.get("headers") or match.get("queryParams"):
                continue
            key = (len(value), "method" in match)
            if best is None or key > best:
                refs = rule.get("backendRefs") or []
                best = key
                backend = (refs[0].get("name"), refs[0].get("port")) if len(refs) == 1 else None
    return backend


def check_gateway(root: Path, docs: list[dict]) -> None:
    routes = [d for d in docs if d["kind"] == "HTTPRoute"]
    gateways = {d["metadata"].get("name") for d in docs if d["kind"] == "Gateway"}
    services = {
        d["metadata"].get("name"): {p.get("port") for p in d["spec"].get("ports", [])}
        for d in docs if d["kind"] == "Service"
    }
    if len(routes) != 1:
        problem("deploy/k8s/base", f"one HTTPRoute must serve the app and both APIs, not {len(routes)}")
        return
    route = routes[0]
    where = f"HTTPRoute {route['metadata'].get('name')}"
    for ref in route["spec"].get("parentRefs", []):
        if ref.get("kind", "Gateway") == "Gateway" and ref.get("name") not in gateways:
            problem(where, f"its parent Gateway {ref.get('name')} is not in the base")
    for rule in route["spec"].get("rules", []):
        for ref in rule.get("backendRefs") or []:
            if ref.get("port") not in services.get(ref.get("name"), set()):
                problem(where, f"backend {ref.get('name')}:{ref.get('port')} is no Service port of the base")
    wanted = []
    for method, path in api_routes(root, "query-api"):
        wanted.append((method, path, ("query-api", 8081)))
        if method == "GET":
            wanted.append(("HEAD", path, ("query-api", 8081)))
    wanted += [(method, path, ("command-api", 8080)) for method, path in api_routes(root, "command-api")]
    if len(wanted) < 10:
        problem(where, f"found only {len(wanted)} API routes in web/src/api/*.ts: are they generated?")
    for method, path, backend in wanted:
        concrete = re.sub(r"\{[^}]+\}", "0193b0c2-0000-7000-8000-000000000000", path)
        got = route_backend(route, method, concrete)
        if got != backend:
            problem(where, f"{method} {path} goes to {got}, not {backend[0]}:{backend[1]}")
    for path in ("/", "/index.html", "/config.json", "/assets/index-abc.js", "/projectsx"):
        for method in ("GET", "HEAD"):
            if route_backend(route, method, path) != ("web", 8080):
                problem(where, f"{method} {path} must go to the web app (web:8080)")


# --------------------------------------------------------------------------- NetworkPolicies

# Who may open which port of whom, and where each may connect: the least-privilege
# table of deploy/README.md. "any" is anyone (the ingress controller, load balancer),
# "namespace" any pod of the namespace.
EXPECTED_INGRESS = {
    "command-api": {(8080, "any")},
    "query-api": {(8081, "any")},
    "web": {(8080, "any")},
    "projector": {(8082, "namespace")},
    "nats": {(4222, "command-api"), (4222, "projector"), (4222, "query-api"), (6222, "nats"), (8222, "nats")},
    "mongo": {(27017, "projector"), (27017, "query-api"), (27017, "mongo")},
}
EXPECTED_EGRESS = {
    "command-api": {(4222, "nats")},
    "query-api": {(4222, "nats"), (27017, "mongo")},
    "projector": {(4222, "nats"), (27017, "mongo")},
    "nats": {(6222, "nats")},
    "mongo": {(27017, "mongo")},
    "*": {(53, "kube-dns")},
}


def peers(rule_peers) -> set[str]:
    if rule_peers is None:
        return {"any"}
    found = set()
    for peer in rule_peers:
        if "ipBlock" in peer:
            found.add(f"ipBlock {peer['ipBlock'].get('cidr')}")
            continue
        pod = peer.get("podSelector")
        if "namespaceSelector" in peer:
            labels = (pod or {}).get("matchLabels", {})
            found.add("kube-dns" if labels == {"k8s-app": "kube-dns"} else f"other namespaces {peer}")
            continue
        labels = pod.get("matchLabels", {})
        exprs = pod.get("matchExpressions", [])
        if not labels and not exprs:
            found.add("namespace")
        for value in labels.values():
            found.add(value)
        for expr in exprs:
            if expr.get("operator") == "In":
                found.update(expr.get("values", []))
            else:
                found.add(f"selector {expr}")
    return found


def check_network_policies(docs: list[dict]) -> None:
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    where = "NetworkPolicies"
    ingress: dict[str, set] = {}
    egress: dict[str, set] = {}
    deny = False
    for p in policies:
        spec = p["spec"]
        labels = spec.get("podSelector", {}).get("matchLabels", {})
        target = labels.get("app.kubernetes.io/name", "*" if not spec.get("podSelector") else f"? {labels}")
        types = set(spec.get("policyTypes", []))
        if target == "*" and not spec.get("ingress") and not spec.get("egress") and types == {"Ingress", "Egress"}:
            deny = True
            continue
        for rule in spec.get("ingress") or []:
            for port in [x.get("port") for x in rule.get("ports") or [{"port": "all"}]]:
                for peer in peers(rule.get("from")):
                    ingress.setdefault(target, set()).add((port, peer))
        for rule in spec.get("egress") or []:
            for port in [x.get("port") for x in rule.get("ports") or [{"port": "all"}]]:
                for peer in peers(rule.get("to")):
                    egress.setdefault(target, set()).add((port, peer))
    if not deny:
        problem(where, "a default-deny policy (podSelector {}, Ingress and Egress, no rules) is missing")
    for direction, got, want in (("ingress", ingress, EXPECTED_INGRESS), ("egress", egress, EXPECTED_EGRESS)):
        for target in sorted(set(got) | set(want)):
            extra = got.get(target, set()) - want.get(target, set())
            missing = want.get(target, set()) - got.get(target, set())
            for port, peer in sorted(extra, key=str):
                problem(where, f"{direction} of {target}: port {port} with {peer} is allowed but must not be")
            for port, peer in sorted(missing, key=str):
                problem(where, f"{direction} of {target}: port {port} with {peer} is needed but not allowed")


# --------------------------------------------------------------------------- main


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    rendered = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    checks = [
        ("Dockerfile", lambda: check_dockerfile(root)),
        ("web Dockerfile", lambda: check_web_dockerfile(root)),
        ("compose", lambda: check_compose(root)),
    ]
    for name, check in checks:
        try:
            check()
        except Exception as err:  # a malformed file is a problem, not a crash
            problem(name, f"cannot be checked: {type(err).__name__}: {err}")
    try:
        docs, generated = check_kustomization(root)
        if rendered is not None:
            # The real kustomize output, when kubectl was there to render it.
            docs = load_all(rendered)
            generated = {
                d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"
            }
        secrets = {
            d["metadata"]["name"]: set((d.get("stringData") or {}) | (d.get("data") or {}))
            for d in load_all(root / "deploy/k8s/base/secret.example.yaml")
            if d.get("kind") == "Secret"
        }
        check_workloads(docs, generated, secrets)
        check_gateway(root, docs)
        check_network_policies(docs)
    except Exception as err:
        problem("deploy/k8s/base", f"cannot be checked: {type(err).__name__}: {err}")
    for line in problems:
        print(f"manifests: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
