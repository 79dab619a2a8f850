#!/usr/bin/env bash
# The real test services of `make test`, without Docker: Neo4j 5.26 (embedded DBMS with Bolt)
# and Apache Kafka 3.9 (KRaft), both from Maven Central jars, on free loopback ports.
#
#   scripts/services.sh up      build (cached), start both, wait until they answer,
#                               write .services/env (source it for the KG_TEST_* variables)
#   scripts/services.sh down    stop both by recorded PID and wait (idempotent)
#   scripts/services.sh status  what runs, and the env file
#   scripts/services.sh private-neo4j HOME [PORT]
#                               one more Neo4j from the same build, for a test or bench that
#                               must stop its server (never the shared one); prints "PID URL"
#   scripts/services.sh server-neo4j HOME [PORT]
#                               one more Neo4j from the same jars, run like a deployment runs it
#                               (server entry point, neo4j.conf, C2 + ParallelGC): for benchmarks
#
# Builds live in a per-machine cache keyed by a hash of their inputs (pom, sources, JDK), so a
# fresh clone reuses them like it reuses ~/.m2. Each build also records a class-data-sharing
# archive from one training start, which roughly halves every later JVM start-up.
# Every `up` starts from empty data directories: tests never see a previous run's data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.services"
CACHE="${CODEKG_SERVICES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codekg-services}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
PROBE="$ROOT/services/probe.py"
JAVA="${JAVA:-java}"
MVN="${MVN:-mvn}"
START_TIMEOUT="${SERVICES_START_TIMEOUT:-180}"
# C1 only and the serial collector: these short-lived test services are start-up bound, and on
# 2 shared cores C2 compiler and parallel GC threads would compete with the tests themselves.
JVM_COMMON=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true)
NEO4J_OPENS=(--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true)
NEO4J_JVM=(-Xms256m -Xmx"${NEO4J_HEAP:-1g}" "${NEO4J_OPENS[@]}")
# What a deployment's JVM looks like (the Neo4j distribution's defaults, full JIT), for
# server-neo4j only, with the throughput collector instead of G1: a write-heavy server's garbage
# is short-lived transaction state, and ParallelGC (no concurrent marking, cheaper write barriers)
# spends ~18% less server CPU on the store bench's bulk load; a young generation of half the
# heap (not a third) halves its collection CPU again. Heap as in docker-compose.yml;
# NEO4J_SERVER_HEAP overrides it.
NEO4J_SERVER_JVM=(-Xms"${NEO4J_SERVER_HEAP:-1g}" -Xmx"${NEO4J_SERVER_HEAP:-1g}" -XX:+UseParallelGC
  -XX:NewRatio=1
  -XX:-OmitStackTraceInFastThrow -XX:+AlwaysPreTouch -XX:+UnlockExperimentalVMOptions
  -XX:+TrustFinalNonStaticFields -XX:+DisableExplicitGC -Djdk.nio.maxCachedBufferSize=1024
  -XX:FlightRecorderOptions=stackdepth=256 -Dlog4j2.disable.jmx=true -Djava.awt.headless=true
  "${NEO4J_OPENS[@]}")
KAFKA_JVM=(-Xms128m -Xmx"${KAFKA_HEAP:-512m}"
  "-Dlog4j.configuration=file:$ROOT/services/kafka/log4j.properties")

log() { printf '[services] %s\n' "$*" >&2; }
now() { date +%s.%N; }

# Where the build of a service lives: hash of its Maven inputs and of the JDK (a CDS archive
# only fits the JVM that wrote it).
build_dir() {
  local dir="$ROOT/services/$1" hash
  hash="$({ (cd "$dir" && find pom.xml src -type f 2>/dev/null | LC_ALL=C sort | xargs sha256sum)
    "$JAVA" -version 2>&1; } | sha256sum | cut -c1-16)"
  echo "$CACHE/$1-$hash"
}

# The JVM options that use the build's CDS archive, or record it (mode "train").
cds() {
  local out=$1 mode=${2:-use}
  if [[ $mode == train ]]; then
    echo "-XX:ArchiveClassesAtExit=$out/app.jsa"
  elif [[ -f "$out/app.jsa" ]]; then
    echo "-XX:SharedArchiveFile=$out/app.jsa"
  else
    echo "-Xshare:auto"
  fi
}

build() {
  local name=$1 out=$2
  [[ -f "$out/.complete" ]] && { log "$name: cached build $out"; return 0; }
  log "$name: building with Maven (a machine's first run downloads jars from Maven Central)"
  local t0=$SECONDS
  rm -rf "$out" "$CACHE/$name"-*.tmp
  mkdir -p "$CACHE"
  if ! "$MVN" -q -B -ntp -f "$ROOT/services/$name/pom.xml" -Dsvc.build.dir="$out.tmp" package \
    >"$STATE/$name-build.log" 2>&1; then
    log "$name: Maven build failed; last lines of $STATE/$name-build.log:"
    tail -n 40 "$STATE/$name-build.log" >&2
    return 1
  fi
  mv "$out.tmp" "$out"
  # An explicit class path (CDS checks it entry by entry; a wildcard would not match).
  find "$out/lib" -name '*.jar' | LC_ALL=C sort | paste -sd: >"$out/classpath"
  log "$name: built in $((SECONDS - t0)) s; recording its class-data-sharing archive"
  if ! "train_$name" "$out"; then
    log "$name: no CDS archive (training start failed); start-up will just be slower"
    rm -f "$out/app.jsa"
  fi
  # Older builds of this service are dead weight in the cache.
  find "$CACHE" -maxdepth 1 -name "$name-*" ! -path "$out" -exec rm -rf {} +
  touch "$out/.complete"
  log "$name: ready to run after $((SECONDS - t0)) s"
}

# True when PID runs and is the service we started (PIDs can be reused after a crash).
ours() {
  local pid=$1 name=$2
  [[ -r "/proc/$pid/cmdline" ]] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-Dcodekg.service=$name "
}

stop_pid() {
  local pid=$1 name=$2
  ours "$pid" "$name" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    ours "$pid" "$name" || return 0
    sleep 0.2
  done
  log "$name: still running after 30 s, killing $pid"
  kill -KILL "$pid" 2>/dev/null || true
  return 1
}

stop_one() {
  local name=$1 pidfile="$STATE/$1.pid"
  [[ -f "$pidfile" ]] || return 0
  stop_pid "$(cat "$pidfile")" "$name" || true
  log "$name: stopped"
  rm -f "$pidfile"
}

down() {
  # Both stop in parallel: each controlled shutdown takes a few seconds.
  stop_one neo4j &
  stop_one kafka &
  wait
  rm -f "$STATE/env"
}

# launch_neo4j BUILD HOME PORT CDS_MODE: start in the background, PID in $LAUNCHED.
launch_neo4j() {
  local out=$1 home=$2 port=$3
  rm -rf "$home"
  mkdir -p "$home"
  "$JAVA" -Dcodekg.service=neo4j "$(cds "$out" "$4")" "${JVM_COMMON[@]}" "${NEO4J_JVM[@]}" \
    -jar "$out/neo4j-service.jar" "$home" "$port" >"$home.log" 2>&1 </dev/null &
  LAUNCHED=$!
}

# launch_kafka BUILD DIR BROKER_PORT CONTROLLER_PORT CDS_MODE: format, then start; PID in $LAUNCHED.
launch_kafka() {
  local out=$1 dir=$2 cp
  cp="$(cat "$out/classpath")"
  rm -rf "$dir"
  mkdir -p "$dir"
  sed -e "s|@BROKER_PORT@|$3|g" -e "s|@CONTROLLER_PORT@|$4|g" -e "s|@LOG_DIR@|$dir/data|g" \
    "$ROOT/services/kafka/server.properties.in" >"$dir/server.properties"
  "$JAVA" "$(cds "$out")" "${JVM_COMMON[@]}" "${KAFKA_JVM[@]}" -cp "$cp" kafka.tools.StorageTool \
    format -t "$("$PY" "$PROBE" cluster-id)" -c "$dir/server.properties" >"$dir.log" 2>&1 ||
    return 1
  "$JAVA" -Dcodekg.service=kafka "$(cds "$out" "$5")" "${JVM_COMMON[@]}" "${KAFKA_JVM[@]}" \
    -cp "$cp" kafka.Kafka "$dir/server.properties" >>"$dir.log" 2>&1 </dev/null &
  LAUNCHED=$!
}

# A training start: run until ready, then stop; the JVM writes app.jsa as it exits.
train_neo4j() {
  local out=$1 port ok=0
  port="$("$PY" "$PROBE" ports 1)"
  launch_neo4j "$out" "$STATE/train-neo4j" "$port" train
  "$PY" "$PROBE" neo4j "bolt://127.0.0.1:$port" "$LAUNCHED" "$START_TIMEOUT" "$(now)" >&2 || ok=1
  stop_pid "$LAUNCHED" neo4j || ok=1  # killed mid-dump: the archive may be torn
  rm -rf "$STATE/train-neo4j"
  [[ $ok == 0 && -f "$out/app.jsa" ]]
}

train_kafka() {
  local out=$1 broker controller ok=0
  read -r broker controller <<<"$("$PY" "$PROBE" ports 2)"
  launch_kafka "$out" "$STATE/train-kafka" "$broker" "$controller" train || return 1
  "$PY" "$PROBE" kafka "127.0.0.1:$broker" "$LAUNCHED" "$START_TIMEOUT" "$(now)" >&2 || ok=1
  stop_pid "$LAUNCHED" kafka || ok=1
  rm -rf "$STATE/train-kafka"
  [[ $ok == 0 && -f "$out/app.jsa" ]]
}

fail() {
  local name=$1
  log "$name failed to start; last lines of $STATE/$name.log:"
  tail -n 40 "$STATE/$name.log" >&2 || true
  if [[ $name == neo4j && -f "$STATE/neo4j/logs/debug.log" ]]; then
    log "errors and warnings in $STATE/neo4j/logs/debug.log:"
    grep -E ' (ERROR|WARN) ' "$STATE/neo4j/logs/debug.log" | tail -n 20 >&2 || true
  fi
  down
  exit 1
}

up() {
  [[ -x "$PY" ]] || { log "no Python at $PY: run 'make install' first"; exit 1; }
  command -v "$JAVA" >/dev/null || { log "no java on PATH: install a JDK 17"; exit 1; }
  command -v "$MVN" >/dev/null || { log "no mvn on PATH: install Maven 3.8+"; exit 1; }
  mkdir -p "$STATE"
  down
  local neo4j_out kafka_out bolt broker controller neo4j_t0 kafka_t0
  neo4j_out="$(build_dir neo4j)"
  kafka_out="$(build_dir kafka)"
  build neo4j "$neo4j_out" || exit 1
  bolt="$("$PY" "$PROBE" ports 1)"
  neo4j_t0=$(now)
  launch_neo4j "$neo4j_out" "$STATE/neo4j" "$bolt" use
  echo "$LAUNCHED" >"$STATE/neo4j.pid"
  # Kafka builds and starts while Neo4j starts: the two overlap.
  build kafka "$kafka_out" || fail kafka
  read -r broker controller <<<"$("$PY" "$PROBE" ports 2)"
  kafka_t0=$(now)
  launch_kafka "$kafka_out" "$STATE/kafka" "$broker" "$controller" use || fail kafka
  echo "$LAUNCHED" >"$STATE/kafka.pid"
  "$PY" "$PROBE" neo4j "bolt://127.0.0.1:$bolt" "$(cat "$STATE/neo4j.pid")" \
    "$START_TIMEOUT" "$neo4j_t0" >&2 || fail neo4j
  "$PY" "$PROBE" kafka "127.0.0.1:$broker" "$(cat "$STATE/kafka.pid")" \
    "$START_TIMEOUT" "$kafka_t0" >&2 || fail kafka
  {
    echo "export KG_TEST_NEO4J_URL=bolt://127.0.0.1:$bolt"
    echo "export KG_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$broker"
  } >"$STATE/env"
  log "up; source $STATE/env:"
  cat "$STATE/env" >&2
}

status() {
  local name rc=0
  for name in neo4j kafka; do
    if [[ -f "$STATE/$name.pid" ]] && ours "$(cat "$STATE/$name.pid")" "$name"; then
      echo "$name: running (pid $(cat "$STATE/$name.pid"), log $STATE/$name.log)"
    else
      echo "$name: stopped"
      rc=1
    fi
  done
  if [[ -f "$STATE/env" ]]; then cat "$STATE/env"; fi
  return $rc
}

# A Neo4j of one's own from the cached build, e.g. to kill it mid-test. Unlike `up` it keeps the
# data of an existing HOME, so a restart on the same HOME and PORT recovers what was committed.
# Prints "PID bolt://127.0.0.1:PORT" once a query succeeds; the caller stops it with kill PID.
private_neo4j() {
  local home=$1 port=${2:-} out t0 pid
  mkdir -p "$STATE" "$home"
  out="$(build_dir neo4j)"
  build neo4j "$out" || exit 1
  [[ -n $port ]] || port="$("$PY" "$PROBE" ports 1)"
  t0=$(now)
  "$JAVA" -Dcodekg.service=neo4j-private "$(cds "$out")" "${JVM_COMMON[@]}" "${NEO4J_JVM[@]}" \
    -jar "$out/neo4j-service.jar" "$home" "$port" >>"$home.log" 2>&1 </dev/null &
  pid=$!
  if ! "$PY" "$PROBE" neo4j "bolt://127.0.0.1:$port" "$pid" "$START_TIMEOUT" "$t0" >&2; then
    kill -KILL "$pid" 2>/dev/null || true
    tail -n 20 "$home.log" >&2 || true
    exit 1
  fi
  echo "$pid bolt://127.0.0.1:$port"
}

# A Neo4j run the way a deployment runs it: the distribution's server entry point reading
# services/neo4j/server.conf.in as neo4j.conf, and the JVM of NEO4J_SERVER_JVM (not the test
# services' C1-only serial-GC one, which suits short start-up-bound runs, not throughput).
# Starts from an empty HOME; prints "PID bolt://127.0.0.1:PORT"; the caller stops it by PID.
server_neo4j() {
  local home=$1 port=${2:-} out t0 pid
  mkdir -p "$STATE"
  out="$(build_dir neo4j)"
  build neo4j "$out" || exit 1
  [[ -n $port ]] || port="$("$PY" "$PROBE" ports 1)"
  rm -rf "$home"
  mkdir -p "$home/conf"
  sed -e "s|@BOLT_PORT@|$port|g" "$ROOT/services/neo4j/server.conf.in" >"$home/conf/neo4j.conf"
  t0=$(now)
  "$JAVA" -Dcodekg.service=neo4j-server "${NEO4J_SERVER_JVM[@]}" \
    -cp "$out/neo4j-service.jar:$(cat "$out/classpath")" org.neo4j.server.CommunityEntryPoint \
    --home-dir="$home" --config-dir="$home/conf" >"$home.log" 2>&1 </dev/null &
  pid=$!
  if ! "$PY" "$PROBE" neo4j "bolt://127.0.0.1:$port" "$pid" "$START_TIMEOUT" "$t0" >&2; then
    kill -KILL "$pid" 2>/dev/null || true
    tail -n 20 "$home.log" "$home/logs/neo4j.log" >&2 || true
    exit 1
  fi
  echo "$pid bolt://127.0.0.1:$port"
}

case "${1:-}" in
  up) up ;;
  private-neo4j) [[ $# -ge 2 ]] || { echo "usage: $0 private-neo4j HOME [PORT]" >&2; exit 2; }
    private_neo4j "$2" "${3:-}" ;;
  server-neo4j) [[ $# -ge 2 ]] || { echo "usage: $0 server-neo4j HOME [PORT]" >&2; exit 2; }
    server_neo4j "$2" "${3:-}" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status|private-neo4j HOME [PORT]|server-neo4j HOME [PORT]" >&2
    exit 2 ;;
esac
