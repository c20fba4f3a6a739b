# Shared setup for scripts/run and scripts/test: installs and starts what is missing.
# Sourced, not executed. Everything comes from the Rust, Python and Debian registries.

TANSU_VERSION=0.6.0
PG_URL_BASE=${PG_URL_BASE:-postgres://postgres@127.0.0.1:5432}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# PostgreSQL on 127.0.0.1:5432 with trust auth for local connections.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL (Debian package)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Local development and CI only: trust connections from this machine.
  if ! as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$hba"
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 0.5; done
  echo "PostgreSQL did not start" >&2; exit 1
}

# The Tansu broker binary (a cold install compiles for ~15 minutes; skipped when present).
ensure_tansu() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if command -v tansu >/dev/null 2>&1; then return; fi
  log "installing Tansu $TANSU_VERSION (cargo install, ~15 minutes cold)"
  cargo install tansu --locked --version "$TANSU_VERSION" --features dynostore,libsql
}

# Starts Tansu on 127.0.0.1:$1 with storage $2 unless something listens there already.
start_tansu() {
  local port=$1 storage=$2 logfile=$3
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
  log "starting Tansu on 127.0.0.1:$port ($storage)"
  nohup tansu broker --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "$storage" >"$logfile" 2>&1 &
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
    sleep 0.1
  done
  echo "Tansu did not start; see $logfile" >&2; exit 1
}

# Python's confluent-kafka with the schema-registry extras: the foreign client of the tests.
ensure_python_client() {
  if python3 -c 'import confluent_kafka.schema_registry.avro, fastavro' 2>/dev/null; then return; fi
  log "installing confluent-kafka for Python (pip)"
  python3 -m pip install --quiet "confluent-kafka[avro,schemaregistry]==2.16.0"
}

ensure_nextest() {
  if cargo nextest --version >/dev/null 2>&1; then return; fi
  log "installing cargo-nextest"
  cargo install cargo-nextest --locked
}
