#!/usr/bin/env bash
# The allowlist read-path benchmark: bench/run.sh with BENCH_SUITE=allowlists (see
# bench/README.md, "Allowlist suite"). Every BENCH_* setting of run.sh applies.
# Results: bench/results/allowlists/latest.md and latest.json.
exec env BENCH_SUITE=allowlists "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"
