# Shared by the bench scripts (source it): a fresh database of each kind.

# fresh_database <sqlite|postgres> <name>: prints the URL of an empty database called
# <name> (a file under $data, or a database on $PG_URL's server); fails when
# PostgreSQL is not reachable.
fresh_database() {
  case "$1" in
    sqlite)
      rm -f "$data/$2.db"*
      echo "sqlite://$data/$2.db" ;;
    postgres)
      pg_isready -q -h 127.0.0.1 -p 5432 || return 1
      psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $2" && psql "$PG_URL" -qc "CREATE DATABASE $2"
      echo "${PG_URL%/*}/$2" ;;
  esac
}

# serve_ready <port> <log> [args…]: starts `$bin serve` in the background (its pid in
# $pid) and returns once it answers /readyz.
serve_ready() {
  local port=$1 log=$2
  shift 2
  "$bin" serve --listen "127.0.0.1:$port" "$@" >"$log" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done
}
