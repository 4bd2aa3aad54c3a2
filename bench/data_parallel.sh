#!/usr/bin/env bash
# Data-parallel scaling on this machine (issue 14): the same work as one
# process with 2 threads and as 2 processes with 1 thread each (--nproc 2),
# for the online demo (generation-bound: task judge, the defaults) and for
# offline DPO on pairs that the first run generated (training-bound).
# Prints, per workload and layout: seconds per step (wall clock between the
# 5th and the last step's metrics, so start-up is left out), the mean
# gradient all-reduce time (time/exchange_seconds).
# Usage: bench/data_parallel.sh PREFLAB OUT_DIR [STEPS=40] [extra run flags]
# Needs the sqlite3 command-line tool. Nothing else may run meanwhile.
set -euo pipefail
preflab=$(realpath "$1"); out=$2; steps=${3:-40}; shift $(( $# >= 3 ? 3 : 2 ))
mkdir -p "$out"
command -v sqlite3 >/dev/null || { echo "data_parallel: needs the sqlite3 tool (apt install sqlite3)" >&2; exit 1; }

per_step() {  # DB: wall seconds per step between step 5 and the last
    sqlite3 "$1" "SELECT printf('%.3f', (max(created_ms) - min(created_ms)) / 1000.0 / (max(step) - min(step)))
                  FROM metrics WHERE name = 'loss' AND step >= 5"
}
exchange() {
    sqlite3 "$1" "SELECT CASE WHEN count(*) = 0 THEN '-' ELSE printf('%.4f', avg(value)) END FROM metrics WHERE name = 'time/exchange_seconds' AND step >= 5"
}

run() {  # NAME FLAGS...
    local name=$1; shift
    rm -f "$out/$name.db"*
    "$preflab" run --quiet --db "$out/$name.db" --steps "$steps" --eval-every 0 --checkpoint-every 0 "$@" \
        >"$out/$name.log" 2>&1 || { echo "$name failed: see $out/$name.log" >&2; exit 1; }
}

run online-1x2 --threads 2 "$@"
run online-2x1 --nproc 2 "$@"
"$preflab" export --db "$out/online-1x2.db" --run 1 --pairs "$out/pairs.jsonl" >/dev/null
run offline-1x2 --algorithm dpo --pairs "$out/pairs.jsonl" --threads 2 "$@"
run offline-2x1 --algorithm dpo --pairs "$out/pairs.jsonl" --nproc 2 "$@"

printf '%-10s %-22s %10s %12s\n' workload layout "s/step" "allreduce_s"
for w in online offline; do
    printf '%-10s %-22s %10s %12s\n' "$w" "1 process x 2 threads" "$(per_step "$out/$w-1x2.db")" "$(exchange "$out/$w-1x2.db")"
    printf '%-10s %-22s %10s %12s\n' "$w" "2 processes x 1 thread" "$(per_step "$out/$w-2x1.db")" "$(exchange "$out/$w-2x1.db")"
done
