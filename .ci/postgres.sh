# Source this file (bash) to start a throwaway PostgreSQL cluster for the
# tests: it installs Debian's postgresql package when initdb is missing,
# creates a cluster in a temporary folder as an unprivileged user (the
# server refuses to run as root), listening only on a Unix socket in that
# folder, exports SLUICE_TEST_POSTGRES for the Go tests, and stops the
# server and removes the folder when the shell exits.
# Fails (returns non-zero) when the server cannot be started.

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

start_test_postgres() {
  local bin dir user
  if ! bin=$(pg_bin); then
    echo "== installing postgresql (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null || return 1
    bin=$(pg_bin) || { echo "postgresql installed but initdb not found" >&2; return 1; }
  fi
  user=nobody
  if [ "$(id -u)" != 0 ]; then user=$(id -un); fi
  dir=$(mktemp -d /tmp/sluice-pg.XXXXXX) || return 1
  chmod 755 "$dir"
  as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
  }
  if [ "$(id -u)" = 0 ]; then chown "$user" "$dir"; fi
  as_pg "$bin/initdb" -D "$dir/data" -U sluice -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  SLUICE_PG_DIR=$dir
  SLUICE_PG_BIN=$bin
  SLUICE_PG_USER=$user
  export SLUICE_TEST_POSTGRES="postgres://sluice@/postgres?host=$dir&sslmode=disable"
  trap stop_test_postgres EXIT
  echo "== PostgreSQL test server: $("$bin/postgres" --version) on socket $dir"
}

stop_test_postgres() {
  if [ -n "${SLUICE_PG_DIR:-}" ] && [ -d "$SLUICE_PG_DIR/data" ]; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u "$SLUICE_PG_USER" -- "$SLUICE_PG_BIN/pg_ctl" -D "$SLUICE_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    else
      "$SLUICE_PG_BIN/pg_ctl" -D "$SLUICE_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$SLUICE_PG_DIR"
  fi
}
