#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the storage tests (Debian's `postgresql`):
#   pg_cluster.sh start STATE_DIR   initdb + pg_ctl start; writes STATE_DIR/env
#   pg_cluster.sh stop STATE_DIR    pg_ctl stop; removes the cluster
# The cluster lives in a fresh folder under /tmp, runs as an unprivileged user
# (`postgres` when started by root: initdb refuses root), listens on a Unix
# socket in that folder and on 127.0.0.1 with TLS (a self-signed certificate
# made here), and asks for a password (SCRAM) on both, so that the tests can
# check a wrong one. STATE_DIR/env holds the URLs and a pgpass file for tests.
set -euo pipefail
action=${1:?start or stop}
state=${2:?state folder}
mkdir -p "$state"

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pg_cluster: PostgreSQL's server is not installed (Debian package postgresql; packaging/setup-debian.sh installs it)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  [ -f "$state/cluster" ] || return 0
  local dir
  dir=$(cat "$state/cluster")
  if [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir" "$state/cluster" "$state/env" "$state/pgpass"
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi

stop  # a cluster left by an interrupted run
dir=$(mktemp -d /tmp/preflab-pg.XXXXXX)
echo "$dir" > "$state/cluster"
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
(umask 077 && printf '%s\n' "$password" > "$dir/pwfile")
openssl req -new -x509 -days 2 -nodes -subj /CN=localhost -keyout "$dir/server.key" -out "$dir/server.crt" \
  >"$dir/openssl.log" 2>&1 || {
  echo "pg_cluster: could not make the TLS certificate (openssl):" >&2
  cat "$dir/openssl.log" >&2
  exit 1
}
chmod 600 "$dir/server.key"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
as_owner "$bin/initdb" -D "$dir/data" -U preflab --pwfile="$dir/pwfile" --auth-local=scram-sha-256 \
  --auth-host=scram-sha-256 --locale=C -E UTF8 >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}
# A free port: the first that a start succeeds on.
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 20000))
  cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
max_connections = 60
fsync = off
EOF
  # The server outlives this script: it must not inherit a descriptor the
  # caller holds open (a build lock taken around ctest would stay held for
  # as long as the server runs, by a process nobody waits on).
  for fd in /proc/$$/fd/*; do
    n=${fd##*/}
    [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null || true
  done
  if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null 2>&1; then
    started=1
    break
  fi
done
if [ -z "${started:-}" ]; then
  echo "pg_cluster: the server did not start:" >&2
  tail -20 "$dir/server.log" >&2
  exit 1
fi
# libpq refuses a pgpass file that others may read; it is never readable by them.
(umask 077 && printf '*:*:*:preflab:%s\n' "$password" > "$state/pgpass")
socket=$(printf '%s' "$dir" | sed 's#/#%2F#g')
cat >"$state/env" <<EOF
PREFLAB_TEST_PG_SOCKET_URL=postgresql://preflab@$socket:$port
PREFLAB_TEST_PG_TCP_URL=postgresql://preflab@127.0.0.1:$port
PREFLAB_TEST_PG_PASSFILE=$state/pgpass
EOF
echo "pg_cluster: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $dir (port $port)"
