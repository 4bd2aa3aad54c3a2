#!/usr/bin/env bash
# Sweeps the online demo's defaults on the built-in task and prints, for each
# setting, the five figures issue 13 sets targets for (docs/results.md):
#   gold_gain   gold reward at the last evaluation minus the starter's (step 0)
#   kl_exact    exact KL(policy || reference) at the last evaluation, nats
#   untrain     mean judge/untrainable_share over the last 50 steps
#   time_ratio  mean step seconds over the last 50 steps / the first 50
#   heldout     held-out preference accuracy at the last evaluation
# Usage: bench/sweep_defaults.sh PREFLAB OUT_DIR JOBS "NAME|FLAGS" ...
#   e.g. bench/sweep_defaults.sh build/dev/app/preflab /tmp/sweep 2 \
#          "lr5e-5|--lr 5e-5" "beta0.3|--lr 1e-4 --beta 0.3"
# Each setting runs `preflab run --judge task --threads 1` in its own database
# under OUT_DIR (JOBS at a time); extra PREFLAB_SWEEP_ARGS go to every run.
# Reads the metrics with the sqlite3 command-line tool; with
# PREFLAB_SWEEP_REPORT_ONLY=1 it only reports the databases already in OUT_DIR.
set -euo pipefail
preflab=$(realpath "$1"); out=$2; jobs=$3; shift 3
mkdir -p "$out"
command -v sqlite3 >/dev/null || { echo "sweep_defaults: needs the sqlite3 tool (apt install sqlite3)" >&2; exit 1; }

run_one() {
    local spec=$1 name flags
    name=${spec%%|*}; flags=${spec#*|}
    rm -f "$out/$name.db" "$out/$name.db-wal" "$out/$name.db-shm"
    # shellcheck disable=SC2086
    "$preflab" run --judge task --threads 1 --quiet --db "$out/$name.db" \
        ${PREFLAB_SWEEP_ARGS:-} $flags >"$out/$name.log" 2>&1 || echo "$name failed: see $out/$name.log" >&2
}
export -f run_one; export preflab out
# PREFLAB_SWEEP_REPORT_ONLY=1: print the table of the databases already there.
[ -n "${PREFLAB_SWEEP_REPORT_ONLY:-}" ] || printf '%s\n' "$@" | xargs -d '\n' -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}

printf '%-22s %9s %9s %8s %10s %8s %6s\n' setting gold_gain kl_exact untrain time_ratio heldout steps
for spec in "$@"; do
    name=${spec%%|*}; db="$out/$name.db"
    [ -f "$db" ] || continue
    sqlite3 -separator ' ' "$db" "
      WITH r AS (SELECT max(id) id FROM runs),
      last AS (SELECT max(step) s FROM metrics WHERE run_id=(SELECT id FROM r) AND name='gold/reward'),
      n AS (SELECT max(step) s FROM metrics WHERE run_id=(SELECT id FROM r) AND name='loss'),
      v AS (SELECT name, step, value FROM metrics WHERE run_id=(SELECT id FROM r))
      SELECT
        printf('%-22s', '$name'),
        printf('%9.3f', (SELECT value FROM v WHERE name='gold/reward' AND step=(SELECT s FROM last))
                      - (SELECT value FROM v WHERE name='gold/reward' AND step=0)),
        printf('%9.3f', (SELECT value FROM v WHERE name='kl/exact' AND step=(SELECT s FROM last))),
        printf('%8.3f', (SELECT avg(value) FROM v WHERE name='judge/untrainable_share' AND step>(SELECT s FROM n)-50)),
        printf('%10.2f', (SELECT avg(value) FROM v WHERE name='time/step_seconds' AND step>(SELECT s FROM n)-50)
                       / (SELECT avg(value) FROM v WHERE name='time/step_seconds' AND step<=50)),
        printf('%8.3f', (SELECT value FROM v WHERE name='eval/rewards/accuracies' AND step=(SELECT s FROM last))),
        printf('%6d', (SELECT s FROM n));"
done
