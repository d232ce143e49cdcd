#!/usr/bin/env bash
# Real Spark Thrift Servers (pyspark 4.3.0 and 3.5.9 from PyPI) on loopback, for the Spark
# tests and benchmarks.
#
#   scripts/spark-servers.sh start   installs what is missing, makes a test CA and server
#                                    certificate, starts one server per transport, waits until
#                                    all listen, and writes .tools/spark/servers.env
#   scripts/spark-servers.sh stop    stops them
#
# One server speaks one transport, so there are five on Spark 4.3, plus one on Spark 3.5 (the
# line HDInsight, Synapse and most on-premises fleets run):
#   sasl       binary, SASL PLAIN (authentication NONE: any non-empty user and password)
#   nosasl     binary, no SASL (authentication NOSASL: raw unframed Thrift)
#   http       HTTP on /cliservice, Basic auth
#   sasl_tls   binary, SASL PLAIN, TLS with the test certificate
#   http_tls   HTTP on /cliservice, TLS with the test certificate
#   sasl35     Spark 3.5: binary, SASL PLAIN
# Each gets 15 minutes to listen: on a fresh machine they start while the whole dependency
# stack compiles on the same cores.
# The certificate is issued by a CA made here (ca.pem) for 127.0.0.1 and localhost.
set -euo pipefail
cd "$(dirname "$0")/.."

PYSPARK_VERSION=4.3.0
# Spark 3.5's last release; Spark 3.3 and later run on Java 17.
PYSPARK35_VERSION=3.5.9
IMPYLA_VERSION=0.24.0
DIR=$PWD/.tools/spark
VENV=$PWD/.tools/venv
VENV35=$PWD/.tools/venv35
ENV_FILE=$DIR/servers.env
MODES="sasl nosasl http sasl_tls http_tls sasl35"

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  if ! "$VENV/bin/python" - <<EOF 2>/dev/null
import importlib.metadata as m
assert m.version("pyspark") == "$PYSPARK_VERSION"
assert m.version("impyla") == "$IMPYLA_VERSION"
EOF
  then
    echo "== installing pyspark==$PYSPARK_VERSION and impyla==$IMPYLA_VERSION from PyPI"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      "pyspark==$PYSPARK_VERSION" "impyla==$IMPYLA_VERSION"
  fi
  if [ ! -x "$VENV35/bin/python" ]; then
    python3 -m venv "$VENV35"
  fi
  if ! "$VENV35/bin/python" - <<EOF 2>/dev/null
import importlib.metadata as m
assert m.version("pyspark") == "$PYSPARK35_VERSION"
EOF
  then
    echo "== installing pyspark==$PYSPARK35_VERSION from PyPI (the Spark 3.5 server)"
    "$VENV35/bin/pip" install --quiet --disable-pip-version-check "pyspark==$PYSPARK35_VERSION"
  fi
}

make_certificates() {
  local d=$DIR/tls
  rm -rf "$d" && mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=quiver test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null
  openssl pkcs12 -export -in "$d/server.pem" -inkey "$d/server.key" -certfile "$d/ca.pem" \
    -name server -passout pass:quiver-test -out "$d/server.p12"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_one() {
  local mode=$1 port=$2
  local spark_home venv=$VENV
  [ "$mode" = sasl35 ] && venv=$VENV35
  spark_home=$("$venv/bin/python" -c 'import pyspark,os;print(os.path.dirname(pyspark.__file__))')
  local work=$DIR/$mode
  rm -rf "$work" && mkdir -p "$work"
  local conf=(
    --conf "spark.sql.warehouse.dir=$work/warehouse"
    --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$work"
    --conf spark.ui.enabled=false
    --conf spark.hadoop.hive.server2.thrift.bind.host=127.0.0.1
    # Not UTC on purpose: quiver must set the session time zone itself.
    --conf spark.sql.session.timeZone=America/Los_Angeles
  )
  case $mode in
    sasl | sasl_tls | sasl35) conf+=(--conf "spark.hadoop.hive.server2.thrift.port=$port") ;;
    nosasl) conf+=(--conf "spark.hadoop.hive.server2.thrift.port=$port"
                   --conf spark.hadoop.hive.server2.authentication=NOSASL) ;;
    http | http_tls) conf+=(--conf spark.hadoop.hive.server2.transport.mode=http
                            --conf "spark.hadoop.hive.server2.thrift.http.port=$port"
                            --conf spark.hadoop.hive.server2.thrift.http.path=cliservice) ;;
  esac
  case $mode in
    *_tls) conf+=(--conf spark.hadoop.hive.server2.use.SSL=true
                  --conf "spark.hadoop.hive.server2.keystore.path=$DIR/tls/server.p12"
                  --conf spark.hadoop.hive.server2.keystore.password=quiver-test) ;;
  esac
  # spark-submit execs into the JVM, so $! is the server's pid. Its own session, and no
  # inherited stdout, so a caller's pipe is not held open by the server.
  (
    cd "$work"
    SPARK_HOME=$spark_home setsid "$spark_home/bin/spark-submit" \
      --master 'local[2]' --driver-memory 1g "${conf[@]}" \
      --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 spark-internal \
      </dev/null >"$work/server.log" 2>&1 &
    echo $! >"$work/pid"
  )
}

wait_listening() {
  local mode=$1 port=$2 deadline=$((SECONDS + 900))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$(cat "$DIR/$mode/pid")" 2>/dev/null; then
      echo "Spark Thrift Server '$mode' exited; its log:" >&2
      tail -n 40 "$DIR/$mode/server.log" >&2
      return 1
    fi
    if [ $SECONDS -gt $deadline ]; then
      echo "Spark Thrift Server '$mode' is not listening on $port after 900 s; see $DIR/$mode/server.log" >&2
      return 1
    fi
    sleep 1
  done
}

stop_all() {
  for mode in $MODES; do
    local pidfile=$DIR/$mode/pid
    if [ -f "$pidfile" ]; then
      kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
  rm -f "$ENV_FILE"
}

case "${1:-}" in
  start)
    stop_all
    mkdir -p "$DIR"
    ensure_venv
    make_certificates
    declare -A ports
    for mode in $MODES; do
      ports[$mode]=$(free_port)
      start_one "$mode" "${ports[$mode]}"
    done
    for mode in $MODES; do
      wait_listening "$mode" "${ports[$mode]}"
    done
    {
      for mode in $MODES; do
        echo "SPARK_${mode^^}_PORT=${ports[$mode]}"
      done
      echo "SPARK_CA_PEM=$DIR/tls/ca.pem"
      echo "PYTHON=$VENV/bin/python"
    } >"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
    echo "== Spark Thrift Servers listening: $(tr '\n' ' ' <"$ENV_FILE")"
    ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
