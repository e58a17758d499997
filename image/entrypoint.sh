#!/bin/bash
# fruit-pipeline container entrypoint (run under tini), implementing Spark's Kubernetes container contract:
#   driver ARGS...   spark-submit in client deploy mode, bound to SPARK_DRIVER_BIND_ADDRESS; ARGS as Spark on
#                    Kubernetes / spark-operator pass them: --properties-file FILE --class CLASS RESOURCE APP_ARGS...
#   executor         the Kubernetes executor backend, configured by the SPARK_EXECUTOR_*/SPARK_DRIVER_URL/... env
#   anything else    run as is (`docker run IMAGE fruit-pipeline run ...`)
# Arbitrary UIDs (e.g. OpenShift, runAsUser without a passwd entry) get one through nss_wrapper.
set -euo pipefail

die() { echo "entrypoint: $*" >&2; exit 64; }

# Give a UID without a passwd entry one (JVM user.home/user.name and Hadoop's login need it) without making
# /etc/passwd writable: nss_wrapper reads a private passwd/group file through LD_PRELOAD.
fake_passwd_entry() {
  local uid gid lib
  uid=$(id -u)
  gid=$(id -g)
  getent passwd "$uid" >/dev/null 2>&1 && return 0
  for lib in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
    [ -s "$lib" ] || continue
    NSS_WRAPPER_PASSWD=$(mktemp)
    NSS_WRAPPER_GROUP=$(mktemp)
    printf 'spark:x:%s:%s:%s:%s:/usr/sbin/nologin\n' "$uid" "$gid" "${SPARK_USER_NAME:-anonymous uid}" "$HOME" \
      >"$NSS_WRAPPER_PASSWD"
    printf 'spark:x:%s:\n' "$gid" >"$NSS_WRAPPER_GROUP"
    export LD_PRELOAD="$lib" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
    return 0
  done
}

# HOME must be writable (matplotlib, Ivy, Python caches): /home/spark is for UID 185 and group 0; else /tmp.
writable_home() {
  if [ -z "${HOME:-}" ] || [ ! -w "$HOME" ]; then
    export HOME=/tmp
  fi
}

# Executor JVM options: SPARK_JAVA_OPT_0, _1, ... in numeric order (the submission client numbers them).
java_opts() {
  local name
  while read -r name; do
    printf '%s\0' "${!name}"
  done < <(compgen -v SPARK_JAVA_OPT_ | sort -t_ -k4 -n)
}

spark_classpath() {
  local cp="${SPARK_HOME}/jars/*"
  [ -n "${SPARK_EXTRA_CLASSPATH:-}" ] && cp="${cp}:${SPARK_EXTRA_CLASSPATH}"
  [ -n "${HADOOP_CONF_DIR:-}" ] && cp="${HADOOP_CONF_DIR}:${cp}"
  cp="${SPARK_CONF_DIR:-${SPARK_HOME}/conf}:${cp}"
  [ -n "${SPARK_DIST_CLASSPATH:-}" ] && cp="${cp}:${SPARK_DIST_CLASSPATH}"
  printf '%s' "${cp}:${PWD}"
}

driver_command() {
  : "${SPARK_DRIVER_BIND_ADDRESS:?is not set (Spark on Kubernetes sets it to the driver pod IP)}"
  CMD=("${SPARK_HOME}/bin/spark-submit"
    --conf "spark.driver.bindAddress=${SPARK_DRIVER_BIND_ADDRESS}"
    --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=${SPARK_DRIVER_BIND_ADDRESS}"
    --deploy-mode client "$@")
}

executor_command() {
  local var opts=()
  for var in SPARK_DRIVER_URL SPARK_EXECUTOR_ID SPARK_EXECUTOR_CORES SPARK_EXECUTOR_MEMORY SPARK_APPLICATION_ID \
             SPARK_EXECUTOR_POD_IP; do
    [ -n "${!var:-}" ] || die "executor: ${var} is not set (Spark on Kubernetes sets it on executor pods)"
  done
  mapfile -d '' -t opts < <(java_opts)
  CMD=("${JAVA_HOME}/bin/java" "${opts[@]}"
    -Xms"${SPARK_EXECUTOR_MEMORY}" -Xmx"${SPARK_EXECUTOR_MEMORY}"
    -cp "$(spark_classpath)"
    org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend
    --driver-url "${SPARK_DRIVER_URL}"
    --executor-id "${SPARK_EXECUTOR_ID}"
    --cores "${SPARK_EXECUTOR_CORES}"
    --app-id "${SPARK_APPLICATION_ID}"
    --hostname "${SPARK_EXECUTOR_POD_IP}"
    --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID:-0}"
    --podName "${SPARK_EXECUTOR_POD_NAME:-$(hostname)}")
}

main() {
  [ $# -gt 0 ] || set -- fruit-pipeline --help
  writable_home
  CMD=()
  case "$1" in
    driver) shift; driver_command "$@" ;;
    executor) shift; executor_command ;;
    *) CMD=("$@") ;;
  esac
  fake_passwd_entry
  if [ -n "${PYSPARK_PYTHON:-}" ]; then export PYSPARK_PYTHON; fi
  if [ -n "${PYSPARK_DRIVER_PYTHON:-}" ]; then export PYSPARK_DRIVER_PYTHON; fi
  exec "${CMD[@]}"
}

main "$@"
