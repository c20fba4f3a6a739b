"""Consistency checks of the deployment files that no schema can express.

Run by scripts/validate-deploy after the schema validators (compose spec, Kubernetes schemas).
Reads only files of this repository; needs PyYAML. Exit status 1 when a check fails.

    python3 scripts/validate_deploy.py [REPO_ROOT]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)

# The metrics the services expose at /metrics (Prometheus text format). The dashboard may chart
# only these; histograms also have their _bucket, _sum and _count series.
COUNTERS_AND_GAUGES = {
    "http_requests_total",  # command-api, query-api {service,method,path,status}
    "relay_outbox_backlog",  # command-api gauge
    "relay_published_total",  # command-api counter
    "projector_lag_records",  # projectors {projection,topic,partition}
    "projector_events_applied_total",  # projectors {projection}
    "projector_dead_letters_total",  # projectors {projection}
    "sagas",  # sagas {type,status}
}
HISTOGRAMS = {
    "http_request_duration_seconds",  # command-api, query-api {service,method,path}
    "relay_publish_latency_seconds",  # command-api
    "projector_event_delay_seconds",  # projectors {projection}
}
ALLOWED_METRICS = COUNTERS_AND_GAUGES | {
    h + suffix for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")
}
# What the dashboard must show (the issue: command rate and latency, relay backlog, projection
# lag, sagas by status).
REQUIRED_METRICS = {
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "relay_outbox_backlog",
    "projector_lag_records",
    "sagas",
}
PROMQL_FUNCTIONS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "rate", "irate", "increase", "delta", "idelta", "deriv",
    "histogram_quantile", "abs", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max",
    "vector", "scalar", "time", "timestamp", "label_replace", "label_join", "absent",
    "absent_over_time", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
    "count_over_time", "last_over_time", "quantile_over_time", "changes", "resets", "sort",
    "sort_desc",
}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                   "and", "or", "unless", "offset", "inf", "nan"}

# The image's service binaries, the ports they listen on, and their listen variables.
SERVICES = {
    "command-api": ("COMMAND_API_LISTEN", 8001),
    "query-api": ("QUERY_API_LISTEN", 8002),
    "sagas": ("SAGAS_LISTEN", 8003),
    "projectors": ("PROJECTORS_LISTEN", 8004),
}
# Services with no /ready endpoint in the code: their readiness is /health.
NO_READY_ENDPOINT = {"sagas"}
# Compose services that cannot have a health check, and why.
NO_HEALTHCHECK = {
    "kafka-init": "one-shot job; others wait for service_completed_successfully",
    "otel-collector": "the image has no shell or HTTP client",
    "dev-token": "a command-line tool (profile tools)",
}
REQUIRED_COMPOSE_SERVICES = {
    "postgres", "kafka", "kafka-init", "schema-registry", "otel-collector", "jaeger",
    "prometheus", "grafana", "command-api", "query-api", "projectors", "sagas",
}
# Variables read by libraries rather than by a clap `env = "..."` of ours.
EXTERNAL_ENV = re.compile(r"^(OTEL_[A-Z_]+|RUST_LOG)$")

failures: list[str] = []
passed = 0


def check(condition: bool, message: str) -> bool:
    global passed
    if condition:
        passed += 1
    else:
        failures.append(message)
    return condition


def load_yaml_docs(path: Path) -> list:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def env_map(env) -> dict:
    if env is None:
        return {}
    if isinstance(env, dict):
        return {k: ("" if v is None else str(v)) for k, v in env.items()}
    out = {}
    for item in env:
        key, _, value = str(item).partition("=")
        out[key] = value
    return out


def resolve_default(value: str) -> str:
    """`${VAR:-default}` -> default (what compose uses when VAR is unset)."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", value)


def dockerfile_binaries() -> set[str]:
    text = (ROOT / "Dockerfile").read_text()
    bins = set(re.findall(r"--bin\s+([A-Za-z0-9_-]+)", text))
    check(bool(bins), "Dockerfile: no `--bin NAME` found in the cargo build")
    check("--locked" in text, "Dockerfile: cargo build must use --locked")
    check(re.search(r"^USER\s+(?!0\b|root\b)\S+", text, re.M) is not None,
          "Dockerfile: the runtime stage must switch to a non-root USER")
    stages = re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", text, re.M | re.I)
    check(len(stages) >= 2, "Dockerfile: must be multi-stage (builder + runtime)")
    return bins


def code_env_vars() -> set[str]:
    names: set[str] = set()
    for rs in ROOT.glob("*/src/**/*.rs"):
        if "target" in rs.parts:
            continue
        text = rs.read_text(errors="replace")
        names |= set(re.findall(r'env\s*=\s*"([A-Z][A-Z0-9_]*)"', text))
        names |= set(re.findall(r'env::var(?:_os)?\(\s*"([A-Z][A-Z0-9_]*)"', text))
    for rs in ROOT.glob("schemas/registry/src/**/*.rs"):
        names |= set(re.findall(r'env\s*=\s*"([A-Z][A-Z0-9_]*)"', rs.read_text(errors="replace")))
    return names


def otlp_ports() -> set[int]:
    """The collector port the services' OTLP exporter needs: 4318 for HTTP, 4317 for gRPC."""
    telemetry = ROOT / "platform/src/telemetry.rs"
    text = telemetry.read_text() if telemetry.exists() else ""
    ports = set()
    if ".with_http()" in text:
        ports.add(4318)
    if ".with_tonic()" in text:
        ports.add(4317)
    return ports or {4317, 4318}


def match_names(path: Path, function: str) -> list[str] | None:
    """The string literals of `Self::X => "name"` arms in `fn <function>`."""
    if not path.exists():
        return None
    text = path.read_text()
    start = text.find(f"fn {function}")
    if start < 0:
        return None
    body = text[start:text.find("\n    }", start)]
    names = re.findall(r'Self::\w+\s*=>\s*"([a-z_]+)"', body)
    return names or None


# ------------------------------------------------------------------------------- PromQL
def promql_metric_names(expr: str) -> tuple[set[str], list[str]]:
    problems = []
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    in_string = None
    for ch in expr:
        if in_string:
            if ch == in_string:
                in_string = None
            continue
        if ch in "\"'`":
            in_string = ch
        elif ch in pairs:
            stack.append(pairs[ch])
        elif ch in ")]}":
            if not stack or stack.pop() != ch:
                problems.append(f"unbalanced '{ch}'")
                break
    if stack or in_string:
        problems.append("unclosed bracket or string")
    s = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', expr)
    for matchers in re.findall(r"\{([^}]*)\}", s):
        for matcher in filter(None, (m.strip() for m in matchers.split(","))):
            if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*""', matcher):
                problems.append(f"bad label matcher {matcher!r}")
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        word = m.group(0)
        rest = s[m.end():].lstrip()
        if word in PROMQL_KEYWORDS:
            continue
        if rest.startswith("("):
            if word not in PROMQL_FUNCTIONS:
                problems.append(f"unknown function {word}()")
            continue
        if re.fullmatch(r"\d", s[m.start() - 1: m.start()] or "x"):
            continue  # exponent or unit of a number
        names.add(word)
    return names, problems


def dashboard_panels(panels: list) -> list:
    out = []
    for p in panels:
        out.append(p)
        out.extend(dashboard_panels(p.get("panels", [])))
    return out


# ------------------------------------------------------------------------------- compose
def check_compose(binaries: set[str], known_env: set[str]) -> dict:
    path = ROOT / "docker-compose.yml"
    compose = yaml.safe_load(path.read_text())
    services = compose.get("services", {})
    names = set(services)
    check(REQUIRED_COMPOSE_SERVICES <= names,
          f"compose: missing services {sorted(REQUIRED_COMPOSE_SERVICES - names)}")
    check("zookeeper" not in " ".join(names),
          "compose: Kafka runs in KRaft mode, no ZooKeeper service")

    kafka = services.get("kafka", {})
    kenv = env_map(kafka.get("environment"))
    check(str(kafka.get("image", "")).startswith("apache/kafka:"),
          "compose: kafka must use the apache/kafka image")
    check("controller" in kenv.get("KAFKA_PROCESS_ROLES", ""),
          "compose: kafka must be a KRaft controller (KAFKA_PROCESS_ROLES)")
    check(str(services.get("schema-registry", {}).get("image", "")).startswith(
        "confluentinc/cp-schema-registry:"), "compose: schema-registry must be Confluent's")

    for name, svc in services.items():
        has_hc = "healthcheck" in svc and not svc["healthcheck"].get("disable")
        check(has_hc or name in NO_HEALTHCHECK,
              f"compose: service {name} has no healthcheck")
        deps = svc.get("depends_on", {})
        deps = {d: {"condition": "service_started"} for d in deps} if isinstance(deps, list) else deps
        for dep, spec in deps.items():
            if not check(dep in names, f"compose: {name} depends on unknown service {dep}"):
                continue
            cond = (spec or {}).get("condition", "service_started")
            if cond == "service_healthy":
                check("healthcheck" in services[dep],
                      f"compose: {name} waits for {dep} healthy, but {dep} has no healthcheck")
            if cond == "service_completed_successfully":
                check(services[dep].get("restart", "no") == "no",
                      f"compose: {name} waits for {dep} to complete, but {dep} restarts")
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
            if source.startswith("."):
                check((ROOT / source).exists(), f"compose: {name} mounts missing {source}")
            elif source:
                check(source in (compose.get("volumes") or {}),
                      f"compose: {name} uses undeclared volume {source}")

    own = {n: s for n, s in services.items()
           if str(s.get("image", "")).startswith("agenthub/agenthub")}
    for name, svc in own.items():
        build = svc.get("build", {})
        build = {"context": build} if isinstance(build, str) else build
        check(build.get("context") == "." and (ROOT / build.get("dockerfile", "Dockerfile")).exists(),
              f"compose: {name} must be built from ./Dockerfile")
        argv = svc.get("entrypoint") or svc.get("command") or []
        argv = argv.split() if isinstance(argv, str) else argv
        check(bool(argv) and argv[0] in binaries,
              f"compose: {name} runs {argv[:1]}, not a binary the Dockerfile builds {sorted(binaries)}")
        env = env_map(svc.get("environment"))
        for var in env:
            check(var in known_env or EXTERNAL_ENV.match(var),
                  f"compose: {name} sets {var}, which no AgentHub code reads")
        binary = argv[0] if argv else ""
        if binary in SERVICES:
            var, port = SERVICES[binary]
            listen = env.get(var, "")
            check(listen == f"0.0.0.0:{port}",
                  f"compose: {name} must set {var}=0.0.0.0:{port} (got {listen!r})")
            for required in ("DATABASE_URL", "JWT_SECRET") if binary != "projectors" else ("DATABASE_URL",):
                check(required in env, f"compose: {name} lacks {required}")
            if binary in ("command-api", "projectors", "sagas"):
                for required in ("KAFKA_BROKERS", "SCHEMA_REGISTRY_URL", "TOPIC_PREFIX"):
                    check(required in env, f"compose: {name} lacks {required}")
                host = env.get("KAFKA_BROKERS", "").split(":")[0]
                check(host in names, f"compose: {name} KAFKA_BROKERS host {host} is no service")
                reg = urlparse(resolve_default(env.get("SCHEMA_REGISTRY_URL", "")))
                check(reg.hostname in names,
                      f"compose: {name} SCHEMA_REGISTRY_URL host {reg.hostname} is no service")
            db = urlparse(resolve_default(env.get("DATABASE_URL", "")))
            check(db.hostname in names, f"compose: {name} DATABASE_URL host {db.hostname} is no service")
            test = " ".join(svc.get("healthcheck", {}).get("test", []))
            path_expected = "/health" if binary in NO_READY_ENDPOINT else "/ready"
            check(f":{port}{path_expected}" in test,
                  f"compose: {name} healthcheck must probe :{port}{path_expected} (got {test!r})")
            ports = [str(p) for p in svc.get("ports", [])]
            check(any(p.endswith(f":{port}") for p in ports),
                  f"compose: {name} should publish container port {port}")
            if "OTEL_EXPORTER_OTLP_ENDPOINT" in env:
                otlp = urlparse(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
                check(otlp.hostname in names and otlp.port in otlp_ports(),
                      f"compose: {name} OTLP endpoint {otlp.geturl()} is not the collector's "
                      f"port {sorted(otlp_ports())} for the exporter the code builds")
                check(env.get("OTEL_SERVICE_NAME") == binary,
                      f"compose: {name} must set OTEL_SERVICE_NAME={binary}")
    for binary in SERVICES:
        check(any((s.get("command") or [None])[0] == binary for s in own.values()),
              f"compose: no service runs {binary}")
    return compose


# ------------------------------------------------------------------------------- topics
def check_topic_script() -> None:
    text = (ROOT / "deploy/kafka/create-topics.sh").read_text()
    check(text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text,
          "create-topics.sh: must be bash with set -euo pipefail")
    check("--if-not-exists" in text and "retention.ms=-1" in text,
          "create-topics.sh: must create with --if-not-exists and retention.ms=-1")

    def array(name):
        m = re.search(rf"^{name}=\(([^)]*)\)", text, re.M)
        return m.group(1).split() if m else []

    for array_name, path, function in (
        ("EVENT_TOPICS", ROOT / "schemas/src/catalog.rs", "suffix"),
        ("PROJECTIONS", ROOT / "projectors/src/generations.rs", "as_str"),
    ):
        script = array(array_name)
        code = match_names(path, function)
        if code is None:
            print(f"warning: cannot read the {array_name} names from {path}; not compared")
            continue
        check(sorted(script) == sorted(code),
              f"create-topics.sh: {array_name}={script} but the code has {code}")


# ------------------------------------------------------------------------------- telemetry
def check_telemetry(compose: dict) -> None:
    services = compose["services"]
    names = set(services)
    obs = ROOT / "deploy/observability"

    prom = yaml.safe_load((obs / "prometheus.yml").read_text())
    targets = {}
    for job in prom.get("scrape_configs", []):
        check("job_name" in job, "prometheus.yml: a scrape config has no job_name")
        for static in job.get("static_configs", []):
            for target in static.get("targets", []):
                host, _, port = target.rpartition(":")
                targets[host] = int(port)
                check(host in names, f"prometheus.yml: target {target} is not a compose service")
    for binary, (_, port) in SERVICES.items():
        check(targets.get(binary) == port,
              f"prometheus.yml: {binary} must be scraped at {binary}:{port} (got {targets.get(binary)})")
    check(any("prometheus.yml" in str(v) for v in services["prometheus"].get("volumes", [])),
          "compose: prometheus must mount deploy/observability/prometheus.yml")

    otel = yaml.safe_load((obs / "otel-collector.yaml").read_text())
    for pipeline, spec in otel.get("service", {}).get("pipelines", {}).items():
        for kind in ("receivers", "processors", "exporters"):
            for item in spec.get(kind, []):
                check(item in (otel.get(kind) or {}),
                      f"otel-collector.yaml: pipeline {pipeline} uses undefined {kind[:-1]} {item}")
    for ext in otel.get("service", {}).get("extensions", []):
        check(ext in (otel.get("extensions") or {}), f"otel-collector.yaml: undefined extension {ext}")
    check("traces" in otel.get("service", {}).get("pipelines", {}),
          "otel-collector.yaml: a traces pipeline is needed")
    for name, exporter in (otel.get("exporters") or {}).items():
        endpoint = (exporter or {}).get("endpoint", "")
        if name.startswith("otlp"):
            host = endpoint.split("://")[-1].split(":")[0]
            check(host in names, f"otel-collector.yaml: exporter {name} goes to unknown host {host}")
    collector_port = targets.get("otel-collector")
    prom_exporter = (otel.get("exporters") or {}).get("prometheus", {}).get("endpoint", "")
    check(collector_port is None or prom_exporter.endswith(f":{collector_port}"),
          "prometheus.yml: otel-collector target port differs from its prometheus exporter")

    grafana = obs / "grafana"
    ds_docs = yaml.safe_load((grafana / "provisioning/datasources/prometheus.yaml").read_text())
    datasources = {d["uid"]: d for d in ds_docs.get("datasources", [])}
    for uid, d in datasources.items():
        host = urlparse(d.get("url", "")).hostname
        check(host in names, f"grafana datasource {uid}: url host {host} is not a compose service")
    providers = yaml.safe_load((grafana / "provisioning/dashboards/agenthub.yaml").read_text())
    mounts = [str(v) for v in services["grafana"].get("volumes", [])]
    for provider in providers.get("providers", []):
        path = provider.get("options", {}).get("path", "")
        check(any(m.split(":")[1] == path for m in mounts if m.count(":") >= 1),
              f"grafana provider path {path} is not mounted in compose")

    dashboards = sorted((grafana / "dashboards").glob("*.json"))
    check(bool(dashboards), "grafana: no dashboard JSON")
    used: set[str] = set()
    for dash_path in dashboards:
        try:
            dash = json.loads(dash_path.read_text())
        except json.JSONDecodeError as e:
            check(False, f"{dash_path.name}: not JSON ({e})")
            continue
        check(bool(dash.get("uid")) and bool(dash.get("title")), f"{dash_path.name}: uid and title")
        panels = dashboard_panels(dash.get("panels", []))
        ids = [p.get("id") for p in panels]
        check(len(ids) == len(set(ids)) and None not in ids, f"{dash_path.name}: panel ids unique")
        for p in panels:
            title = p.get("title", "?")
            check("gridPos" in p, f"{dash_path.name}: panel {title!r} has no gridPos")
            if p.get("type") == "row":
                continue
            targets_ = p.get("targets", [])
            check(bool(targets_), f"{dash_path.name}: panel {title!r} has no query")
            for t in targets_:
                uid = (t.get("datasource") or p.get("datasource") or {}).get("uid")
                check(uid in datasources,
                      f"{dash_path.name}: panel {title!r} uses datasource {uid!r}, not provisioned")
                metrics, problems = promql_metric_names(t.get("expr", ""))
                check(not problems, f"{dash_path.name}: panel {title!r}: {problems} in {t.get('expr')!r}")
                check(bool(metrics), f"{dash_path.name}: panel {title!r}: no metric in {t.get('expr')!r}")
                unknown = metrics - ALLOWED_METRICS
                check(not unknown,
                      f"{dash_path.name}: panel {title!r} queries unknown metrics {sorted(unknown)}")
                used |= metrics
    check(REQUIRED_METRICS <= used,
          f"grafana: the dashboard does not chart {sorted(REQUIRED_METRICS - used)}")


# ------------------------------------------------------------------------------- kubernetes
def check_kubernetes(binaries: set[str], known_env: set[str]) -> None:
    deploy = ROOT / "deploy"
    kustomization = yaml.safe_load((deploy / "kustomization.yaml").read_text())
    listed = set(kustomization.get("resources", []))
    present = {str(p.relative_to(deploy)) for p in (deploy / "k8s").glob("*.yaml")}
    check(listed == present,
          f"kustomization: resources {sorted(listed)} differ from deploy/k8s files {sorted(present)}")
    generated_cms = set()
    for gen in kustomization.get("configMapGenerator", []):
        generated_cms.add(gen["name"])
        for f in gen.get("files", []):
            check((deploy / f.split("=")[-1]).exists(), f"kustomization: missing file {f}")

    objects = []
    for f in sorted(present):
        for doc in load_yaml_docs(deploy / f):
            objects.append((f, doc))
    by_kind: dict[str, dict[str, dict]] = {}
    for f, doc in objects:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    configmaps = set(by_kind.get("ConfigMap", {})) | generated_cms
    secrets = set(by_kind.get("Secret", {}))
    config = by_kind.get("ConfigMap", {}).get("agenthub-config", {}).get("data", {})
    partitions = int(config.get("TOPIC_PARTITIONS", "0"))
    check(partitions > 0, "configmap: TOPIC_PARTITIONS must be set")
    for var in config:
        check(var in known_env or EXTERNAL_ENV.match(var) or var == "TOPIC_MIN_INSYNC_REPLICAS",
              f"configmap: {var} is read by no AgentHub code")
    if "OTEL_EXPORTER_OTLP_ENDPOINT" in config:
        port = urlparse(config["OTEL_EXPORTER_OTLP_ENDPOINT"]).port
        check(port in otlp_ports(),
              f"configmap: OTEL_EXPORTER_OTLP_ENDPOINT port {port}, the exporter needs {sorted(otlp_ports())}")
    secret = by_kind.get("Secret", {}).get("agenthub-secrets", {})
    check({"DATABASE_URL", "JWT_SECRET"} <= set(secret.get("stringData", {}) or secret.get("data", {})),
          "secret: DATABASE_URL and JWT_SECRET")

    deployments = by_kind.get("Deployment", {})
    check(set(SERVICES) <= set(deployments),
          f"k8s: Deployments missing {sorted(set(SERVICES) - set(deployments))}")

    def pod_labels(dep):
        return dep["spec"]["template"]["metadata"].get("labels", {})

    def selects(selector, labels):
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    for name, dep in deployments.items():
        spec = dep["spec"]
        check(selects(spec["selector"]["matchLabels"], pod_labels(dep)),
              f"k8s: Deployment {name} selector does not match its pod labels")
        pod = spec["template"]["spec"]
        check(pod.get("securityContext", {}).get("runAsNonRoot") is True,
              f"k8s: Deployment {name} must run as non-root")
        for c in pod["containers"]:
            argv = c.get("command") or c.get("args") or []
            binary = argv[0] if argv else ""
            check(binary in binaries, f"k8s: {name} runs {binary!r}, not a binary of the image")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                check({"cpu", "memory"} <= set(res.get(kind, {})),
                      f"k8s: {name}/{c['name']} needs cpu and memory {kind}")
            live = c.get("livenessProbe", {}).get("httpGet", {})
            ready = c.get("readinessProbe", {}).get("httpGet", {})
            check(live.get("path") == "/health", f"k8s: {name} liveness must be GET /health")
            expected_ready = "/health" if binary in NO_READY_ENDPOINT else "/ready"
            check(ready.get("path") == expected_ready,
                  f"k8s: {name} readiness must be GET {expected_ready} (got {ready.get('path')})")
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            for var in env:
                check(var in known_env or EXTERNAL_ENV.match(var),
                      f"k8s: {name} sets {var}, which no AgentHub code reads")
            for ref in c.get("envFrom", []):
                if "configMapRef" in ref:
                    check(ref["configMapRef"]["name"] in configmaps,
                          f"k8s: {name} uses unknown ConfigMap {ref['configMapRef']['name']}")
                if "secretRef" in ref:
                    check(ref["secretRef"]["name"] in secrets,
                          f"k8s: {name} uses unknown Secret {ref['secretRef']['name']}")
            if binary in SERVICES:
                var, port = SERVICES[binary]
                check(env.get(var) == f"0.0.0.0:{port}", f"k8s: {name} must set {var}=0.0.0.0:{port}")
                ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
                check(port in ports.values(), f"k8s: {name} must expose containerPort {port}")
                for probe in (live, ready):
                    check(probe.get("port") in ports or probe.get("port") == port,
                          f"k8s: {name} probe port {probe.get('port')} is not a container port")
                check(env.get("OTEL_SERVICE_NAME") == binary,
                      f"k8s: {name} must set OTEL_SERVICE_NAME={binary}")
                annotations = spec["template"]["metadata"].get("annotations", {})
                check(annotations.get("prometheus.io/port") == str(port),
                      f"k8s: {name} prometheus.io/port annotation must be {port}")

    for consumer in ("projectors", "sagas"):
        if consumer in deployments:
            check(deployments[consumer]["spec"].get("replicas") == partitions,
                  f"k8s: {consumer} replicas must equal TOPIC_PARTITIONS={partitions}: a consumer "
                  "group has at most one member per partition")
    relay_doc = (deploy / "k8s/command-api.yaml").read_text()
    check("advisory lock" in relay_doc and "single-leader" in relay_doc.lower(),
          "k8s: command-api.yaml must explain the relay's single-leader rule")

    hpas = by_kind.get("HorizontalPodAutoscaler", {})
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()}
    check(targets == {"command-api", "query-api"},
          f"k8s: HPAs must target exactly command-api and query-api (got {sorted(targets)})")
    for h in hpas.values():
        check(h["spec"]["scaleTargetRef"]["name"] in deployments, "k8s: HPA targets a missing Deployment")
        check(h["spec"].get("minReplicas", 1) >= 2, "k8s: HPA minReplicas >= 2 (with a PDB)")

    pdbs = by_kind.get("PodDisruptionBudget", {})
    for name, dep in deployments.items():
        check(any(selects(p["spec"]["selector"]["matchLabels"], pod_labels(dep)) for p in pdbs.values()),
              f"k8s: Deployment {name} has no PodDisruptionBudget")
    for name, svc in by_kind.get("Service", {}).items():
        matched = [d for d in deployments.values() if selects(svc["spec"].get("selector", {}), pod_labels(d))]
        if check(bool(matched), f"k8s: Service {name} selects no Deployment"):
            cports = {p.get("name") for c in matched[0]["spec"]["template"]["spec"]["containers"]
                      for p in c.get("ports", [])}
            for p in svc["spec"]["ports"]:
                tp = p.get("targetPort", p["port"])
                check(tp in cports or isinstance(tp, int),
                      f"k8s: Service {name} targetPort {tp} is not a named container port")

    for name, job in by_kind.get("Job", {}).items():
        pod = job["spec"]["template"]["spec"]
        for c in pod["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    check(ref["name"] in configmaps and (ref["name"] != "agenthub-config" or ref["key"] in config),
                          f"k8s: Job {name} reads missing ConfigMap key {ref['name']}/{ref['key']}")
        for v in pod.get("volumes", []):
            if "configMap" in v:
                check(v["configMap"]["name"] in configmaps, f"k8s: Job {name} mounts unknown ConfigMap")


def main() -> int:
    binaries = dockerfile_binaries()
    known_env = code_env_vars()
    check(len(known_env) > 10, "could not read the services' environment variables from the code")
    compose = check_compose(binaries, known_env)
    check_topic_script()
    check_telemetry(compose)
    check_kubernetes(binaries, known_env)
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"consistency checks: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
