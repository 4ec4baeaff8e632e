#!/usr/bin/env python3
"""Validate rendered Kubernetes manifests for mcpreg (used by deploy/validate.sh).

Schema checks:
  * every built-in kind against the OpenAPI-derived JSON schemas bundled in the
    `kubernetes-validate` package, strict mode (unknown fields are errors), for
    each --k8s-version given;
  * CloudNativePG `Cluster` against deploy/schemas/cnpg-cluster.subset.schema.json
    (a hand-written subset; the upstream CRD schema is not in any registry
    package);
  * any other kind is an error (no silent "schema not found").

Policy checks (--policy): the properties docs/operations.md promises, e.g.
non-root, read-only root filesystem, probes on /healthz and /readyz,
DATABASE_URL only from a Secret, no Secret objects in the rendered output, and
that selectors / references between the objects line up.

Usage:
  validate_k8s.py [--k8s-version V]... [--policy] [--db-secret NAME:KEY]
                  [--allow-example-secret] FILE...   (FILE may be "-")
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import jsonschema
import yaml
from kubernetes_validate import utils as kv

HERE = os.path.dirname(os.path.abspath(__file__))
CNPG_SCHEMA = os.path.join(HERE, "schemas", "cnpg-cluster.subset.schema.json")

APP_LABELS = {"app.kubernetes.io/name": "mcpreg", "app.kubernetes.io/component": "server"}


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.infos: list[str] = []

    def err(self, msg: str) -> None:
        self.errors.append(msg)
        print(f"  ERROR {msg}")

    def ok(self, msg: str) -> None:
        self.infos.append(msg)
        print(f"  ok    {msg}")


def load_docs(path: str) -> list[dict[str, Any]]:
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    return [d for d in yaml.safe_load_all(text) if d]


def ident(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def schema_check(docs: list[dict[str, Any]], versions: list[str], rep: Report,
                 allow_example_secret: bool) -> None:
    cnpg_schema = None
    for doc in docs:
        api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
        if kind == "Secret" and not allow_example_secret:
            rep.err(f"{ident(doc)}: rendered output must not contain Secrets")
        if kind == "Secret" and allow_example_secret:
            values = {**doc.get("stringData", {}), **doc.get("data", {})}
            if not all("REPLACE_ME" in str(v) for v in values.values()):
                rep.err(f"{ident(doc)}: example secret must only hold REPLACE_ME placeholders")
        if api == "postgresql.cnpg.io/v1" and kind == "Cluster":
            if cnpg_schema is None:
                with open(CNPG_SCHEMA, encoding="utf-8") as f:
                    cnpg_schema = json.load(f)
            errs = sorted(jsonschema.Draft202012Validator(cnpg_schema).iter_errors(doc),
                          key=lambda e: list(e.path))
            for e in errs:
                rep.err(f"{ident(doc)}: {'.'.join(map(str, e.path))}: {e.message}")
            if not errs:
                rep.ok(f"{ident(doc)} ({api}) valid against the CNPG subset schema")
            continue
        for v in versions:
            try:
                got = kv.validate(doc, v, strict=True)
                rep.ok(f"{ident(doc)} ({api}) valid, strict, Kubernetes {got}")
            except kv.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                rep.err(f"{ident(doc)} (Kubernetes {e.version}): {path}: {e.message}")
            except kv.SchemaNotFoundError:
                rep.err(f"{ident(doc)}: no schema for {api} {kind} in Kubernetes {v}")


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind
            and (name is None or d.get("metadata", {}).get("name") == name)]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def http_path(probe: dict[str, Any] | None) -> str | None:
    return ((probe or {}).get("httpGet") or {}).get("path")


def policy_check(docs: list[dict[str, Any]], rep: Report, db_secret: str | None) -> None:
    kinds = {d.get("kind") for d in docs}
    for k in ["Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service",
              "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy"]:
        if k not in kinds:
            rep.err(f"missing a {k}")
    deps = find(docs, "Deployment", "mcpreg")
    if len(deps) != 1:
        rep.err("expected exactly one Deployment/mcpreg")
        return
    dep = deps[0]
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels", {})
    ns = dep["metadata"].get("namespace")

    # Every namespaced object lands in the same namespace.
    for d in docs:
        if d.get("kind") != "Namespace" and d.get("metadata", {}).get("namespace") != ns:
            rep.err(f"{ident(d)}: namespace {d.get('metadata', {}).get('namespace')!r} != {ns!r}")
    if not find(docs, "Namespace", ns):
        rep.err(f"Namespace {ns} is not part of the output")

    # Deployment shape.
    if spec.get("replicas") != 2:
        rep.err("Deployment: replicas must be 2")
    strat = spec.get("strategy", {})
    if strat.get("type") != "RollingUpdate" or strat.get("rollingUpdate", {}).get("maxUnavailable") != 0:
        rep.err("Deployment: RollingUpdate with maxUnavailable 0 expected")
    if not matches(spec["selector"]["matchLabels"], pod_labels):
        rep.err("Deployment: selector does not match pod labels")
    if not pod.get("topologySpreadConstraints"):
        rep.err("Deployment: topologySpreadConstraints missing")
    if pod.get("automountServiceAccountToken") is not False:
        rep.err("Deployment: automountServiceAccountToken must be false")
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        rep.err("Deployment: pod runAsNonRoot must be true")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        rep.err("Deployment: pod seccompProfile RuntimeDefault expected")
    if not isinstance(psc.get("runAsUser"), int) or psc["runAsUser"] == 0:
        rep.err("Deployment: numeric non-root runAsUser expected")

    sa_name = pod.get("serviceAccountName")
    sas = find(docs, "ServiceAccount", sa_name)
    if not sas or sas[0].get("automountServiceAccountToken") is not False:
        rep.err(f"ServiceAccount {sa_name}: missing or automountServiceAccountToken not false")

    configmaps = {d["metadata"]["name"] for d in find(docs, "ConfigMap")}
    mounted = {v["name"] for v in pod.get("volumes", [])}
    containers = pod.get("containers", [])
    inits = pod.get("initContainers", [])
    for c in inits + containers:
        where = f"container {c['name']}"
        sc = c.get("securityContext", {})
        if sc.get("readOnlyRootFilesystem") is not True:
            rep.err(f"{where}: readOnlyRootFilesystem must be true")
        if sc.get("allowPrivilegeEscalation") is not False:
            rep.err(f"{where}: allowPrivilegeEscalation must be false")
        if sc.get("privileged"):
            rep.err(f"{where}: privileged")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            rep.err(f"{where}: capabilities must drop ALL")
        if sc.get("capabilities", {}).get("add"):
            rep.err(f"{where}: adds capabilities")
        if not c.get("resources", {}).get("requests") or not c.get("resources", {}).get("limits", {}).get("memory"):
            rep.err(f"{where}: resource requests and a memory limit expected")
        if c.get("image") in (None, "", "mcpreg") or ":" not in c.get("image", ""):
            rep.err(f"{where}: image {c.get('image')!r} not set by kustomize images")
        for vm in c.get("volumeMounts", []):
            if vm["name"] not in mounted:
                rep.err(f"{where}: volumeMount {vm['name']} has no volume")
        for ef in c.get("envFrom", []):
            ref = (ef.get("configMapRef") or {}).get("name")
            if ref and ref not in configmaps:
                rep.err(f"{where}: envFrom ConfigMap {ref} not in output")
        envs = {e["name"]: e for e in c.get("env", [])}
        dburl = envs.get("DATABASE_URL")
        if not dburl or "value" in dburl:
            rep.err(f"{where}: DATABASE_URL must come from a Secret (valueFrom.secretKeyRef)")
        else:
            ref = dburl.get("valueFrom", {}).get("secretKeyRef", {})
            got = f"{ref.get('name')}:{ref.get('key')}"
            if db_secret and got != db_secret:
                rep.err(f"{where}: DATABASE_URL from {got}, expected {db_secret}")
    if [c.get("args") for c in inits if c["name"] == "migrate"] != [["migrate"]]:
        rep.err("initContainer 'migrate' running `mcpreg-server migrate` expected")
    main = [c for c in containers if c["name"] == "mcpreg"]
    if len(main) != 1:
        rep.err("container 'mcpreg' expected")
    else:
        m = main[0]
        if m.get("args", [None])[0] != "serve":
            rep.err("container mcpreg: args must start with serve")
        if http_path(m.get("readinessProbe")) != "/readyz":
            rep.err("container mcpreg: readinessProbe must GET /readyz")
        if http_path(m.get("livenessProbe")) != "/healthz":
            rep.err("container mcpreg: livenessProbe must GET /healthz")
        if http_path(m.get("startupProbe")) != "/healthz":
            rep.err("container mcpreg: startupProbe must GET /healthz")
        if 8080 not in [p.get("containerPort") for p in m.get("ports", [])]:
            rep.err("container mcpreg: containerPort 8080 expected")
        if any(e.get("name") == "MCPREG_NO_MIGRATE" for e in m.get("env", [])):
            rep.err("container mcpreg: set MCPREG_NO_MIGRATE in the ConfigMap, not inline")
    cm_values: dict[str, str] = {}
    for d in find(docs, "ConfigMap"):
        cm_values.update(d.get("data", {}))
    if cm_values.get("MCPREG_LISTEN") != "0.0.0.0:8080":
        rep.err("ConfigMap: MCPREG_LISTEN=0.0.0.0:8080 expected")
    if cm_values.get("MCPREG_NO_MIGRATE") != "true":
        rep.err("ConfigMap: MCPREG_NO_MIGRATE=true expected (the init container migrates)")

    # Objects pointing at the pods / the Deployment.
    for svc in find(docs, "Service"):
        if not matches(svc["spec"].get("selector", {}), pod_labels):
            rep.err(f"{ident(svc)}: selector does not match the pods")
    for pdb in find(docs, "PodDisruptionBudget"):
        if not matches(pdb["spec"]["selector"].get("matchLabels", {}), pod_labels):
            rep.err(f"{ident(pdb)}: selector does not match the pods")
    for hpa in find(docs, "HorizontalPodAutoscaler"):
        tgt = hpa["spec"]["scaleTargetRef"]
        if (tgt.get("kind"), tgt.get("name")) != ("Deployment", "mcpreg"):
            rep.err(f"{ident(hpa)}: must target Deployment/mcpreg")
        if hpa["spec"].get("minReplicas", 1) < 2:
            rep.err(f"{ident(hpa)}: minReplicas must be >= 2")
    nps = [n for n in find(docs, "NetworkPolicy")
           if matches(n["spec"]["podSelector"].get("matchLabels", {}), pod_labels)]
    if not nps:
        rep.err("no NetworkPolicy selects the mcpreg pods")
    for np in nps:
        ing = {(p.get("protocol", "TCP"), p.get("port")) for r in np["spec"].get("ingress", [])
               for p in r.get("ports", [])}
        egr = {(p.get("protocol", "TCP"), p.get("port")) for r in np["spec"].get("egress", [])
               for p in r.get("ports", [])}
        if ing != {("TCP", 8080)}:
            rep.err(f"{ident(np)}: ingress must allow exactly TCP 8080, got {sorted(ing)}")
        for need in [("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 443)]:
            if need not in egr:
                rep.err(f"{ident(np)}: egress {need} missing")

    # CloudNativePG: the secret the Deployment reads is the one the Cluster makes.
    for cl in find(docs, "Cluster"):
        expected = f"{cl['metadata']['name']}-app:uri"
        if db_secret != expected:
            rep.err(f"{ident(cl)}: Deployment should read DATABASE_URL from {expected}")

    if not rep.errors:
        rep.ok(f"policy checks on {len(docs)} objects")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k8s-version", action="append", default=[])
    ap.add_argument("--policy", action="store_true")
    ap.add_argument("--db-secret", help="expected DATABASE_URL secretKeyRef as NAME:KEY")
    ap.add_argument("--allow-example-secret", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    versions = a.k8s_version or [kv.latest_version()]
    rep = Report()
    for f in a.files:
        docs = load_docs(f)
        if not docs:
            rep.err(f"{f}: no objects")
            continue
        schema_check(docs, versions, rep, a.allow_example_secret)
        if a.policy:
            policy_check(docs, rep, a.db_secret)
    print(f"  {len(rep.errors)} error(s)")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main())
