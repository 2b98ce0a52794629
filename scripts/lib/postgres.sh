# A throw-away PostgreSQL for the test suite's second run: Debian's PostgreSQL (installed when
# missing), a fresh cluster in a temporary directory, listening on a free loopback port, run as
# a non-root user (PostgreSQL refuses root), stopped and removed on exit.

ensure_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing Debian's PostgreSQL for the second run of the integration tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  fi
}

# Starts the cluster and exports PORTAL_TEST_POSTGRES (the URL the tests create databases in).
start_postgres() {
  local bin port
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_TEST_DIR=$(mktemp -d /tmp/portal-postgres-XXXXXX)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  PG_AS=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PG_TEST_DIR"
    PG_AS=(runuser -u postgres --)
  fi
  PG_BIN=$bin
  "${PG_AS[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -A trust -U postgres >/dev/null
  # Durability off: a test database is thrown away, and fsyncs would only slow the suite.
  "${PG_AS[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/log" -w \
    -o "-p $port -k $PG_TEST_DIR -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" \
    start >/dev/null
  export PORTAL_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  trap stop_postgres EXIT
  say "PostgreSQL for the tests on 127.0.0.1:$port ($PG_TEST_DIR)"
}

stop_postgres() {
  if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
  fi
}
