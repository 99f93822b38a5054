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

# remote_postgres <dir>: starts a PostgreSQL of its own in a network namespace
# (`sp-db`) reached over a veth pair with Ethernet's MTU of 1500, as a database on
# another host is (loopback's 64 KiB MTU hides segmenting and delayed ACKs); prints
# its URL. Needs root (ip netns). `stop_remote_postgres <dir>` undoes it all.
remote_postgres() {
  local dir=$1 pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
  stop_remote_postgres "$dir" 2>/dev/null || true
  ip netns add sp-db
  ip link add sp-app type veth peer name sp-db0
  ip link set sp-db0 netns sp-db
  ip addr add 10.77.0.1/24 dev sp-app
  ip link set sp-app mtu 1500 up
  ip netns exec sp-db ip addr add 10.77.0.2/24 dev sp-db0
  ip netns exec sp-db ip link set sp-db0 mtu 1500 up
  ip netns exec sp-db ip link set lo up
  mkdir -p "$dir" && chown postgres "$dir"
  su postgres -c "$pgbin/initdb -D $dir/data -A trust -U postgres" >"$dir/initdb.log"
  ip netns exec sp-db su postgres -c "$pgbin/pg_ctl -D $dir/data -l $dir/postgres.log \
    -o \"-c listen_addresses=10.77.0.2 -c unix_socket_directories=$dir -c fsync=on\" -w start" >/dev/null
  echo "host all all 10.77.0.0/24 trust" >>"$dir/data/pg_hba.conf"
  ip netns exec sp-db su postgres -c "$pgbin/pg_ctl -D $dir/data reload" >/dev/null
  echo "postgres://postgres@10.77.0.2:5432/postgres"
}

stop_remote_postgres() {
  local dir=$1 pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
  [ -d "$dir/data" ] && ip netns exec sp-db su postgres -c "$pgbin/pg_ctl -D $dir/data -m fast stop" >/dev/null 2>&1
  ip link del sp-app 2>/dev/null
  ip netns del sp-db 2>/dev/null
  rm -rf "$dir"
}
