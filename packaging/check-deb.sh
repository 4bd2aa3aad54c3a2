#!/usr/bin/env bash
# Builds the Debian package from BUILD_DIR (packaging/make-deb.sh), unpacks it
# with dpkg-deb -x into a temporary folder and checks it as a user would meet
# it: the files a desktop expects are there, Depends names LibTorch, Qt,
# QCustomPlot and OpenBLAS, and the unpacked binary prints its version and runs
# a 5-step headless demo. Usage: packaging/check-deb.sh BUILD_DIR [DATA_DIR]
# DATA_DIR: where the starter model is cached (else it is pretrained first).
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
data=${2:-}
deb=$(packaging/make-deb.sh "$build" | tail -n 1)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
fail() { echo "check-deb: $deb: $*" >&2; exit 1; }
for f in usr/bin/preflab usr/share/applications/preflab.desktop usr/share/metainfo/io.github.preflab.PrefLab.metainfo.xml \
         usr/share/icons/hicolor/scalable/apps/preflab.svg usr/share/icons/hicolor/48x48/apps/preflab.png \
         usr/share/icons/hicolor/128x128/apps/preflab.png usr/share/icons/hicolor/256x256/apps/preflab.png \
         usr/share/man/man1/preflab.1.gz; do
  [ -s "$root/$f" ] || fail "missing /$f"
done
# Nothing else goes under /usr: models and data live in the user's data folder.
extra=$(cd "$root" && find . -type f | grep -v -e '^./usr/bin/preflab$' -e '^./usr/share/' || true)
[ -z "$extra" ] || fail "unexpected files: $extra"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libtorch libqt6core6 libqt6widgets6 libqcustomplot libopenblas0-openmp; do
  grep -q "$lib" <<<"$depends" || fail "Depends does not name $lib: $depends"
done
# grep reads all of a pipe (no -q): with pipefail, grep -q leaving early
# would fail the pipeline through the writer's SIGPIPE once the man page
# outgrew the pipe's buffer.
zcat "$root/usr/share/man/man1/preflab.1.gz" | grep '^\.SS preflab run' >/dev/null || fail "the man page lacks 'preflab run'"
"$root/usr/bin/preflab" version | grep "^preflab [0-9]" >/dev/null || fail "preflab version printed no version"
args=(--headless --steps 5 --eval-every 5 --eval-samples 8 --held-out-pairs 8 --quiet --db "$root/check.db")
[ -z "$data" ] || args+=(--data-dir "$data")
QT_QPA_PLATFORM=offscreen "$root/usr/bin/preflab" "${args[@]}" >"$root/run.log" 2>&1 || { cat "$root/run.log" >&2; fail "the 5-step run failed"; }
grep -q "Summary of run" "$root/run.log" || { cat "$root/run.log" >&2; fail "the 5-step run printed no summary"; }
echo "check-deb: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB): files, Depends and a 5-step run from the unpacked binary are fine"
echo "Depends: $depends"
