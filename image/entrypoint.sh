#!/bin/bash
# Spark-on-Kubernetes container contract for fruit-pipeline: driver | executor | any other command.
set -euo pipefail

# Arbitrary UID (OpenShift-style): give the user a passwd entry so the JVM/Hadoop can resolve it.
ensure_user() {
  local uid
  uid=$(id -u)
  if ! getent passwd "$uid" >/dev/null 2>&1 && [ -w /etc/passwd ]; then
    echo "${uid}:x:${uid}:$(id -g):anonymous uid:${HOME:-/tmp}:/bin/false" >>/etc/passwd
  fi
  export HOME="${HOME:-/tmp}"
  [ -w "$HOME" ] || export HOME=/tmp
  # Without a passwd entry the JVM's user.home is "?", which breaks Ivy; pin it to HOME.
  export SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:-} -Duser.home=${HOME}"
}

spark_classpath() {
  local cp="${SPARK_HOME}/jars/*"
  [ -n "${SPARK_EXTRA_CLASSPATH:-}" ] && cp="${cp}:${SPARK_EXTRA_CLASSPATH}"
  [ -n "${SPARK_CONF_DIR:-}" ] && cp="${SPARK_CONF_DIR}:${cp}"
  printf '%s' "$cp"
}

run_driver() {
  exec "${SPARK_HOME}/bin/spark-submit" \
    --conf "spark.driver.bindAddress=${SPARK_DRIVER_BIND_ADDRESS:-0.0.0.0}" \
    --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=${SPARK_DRIVER_BIND_ADDRESS:-0.0.0.0}" \
    --deploy-mode client "$@"
}

run_executor() {
  local java="${JAVA_HOME:+${JAVA_HOME}/bin/}java"
  local -a opts=()
  while IFS='=' read -r name value; do
    case "$name" in SPARK_JAVA_OPT_*) opts+=("$value") ;; esac
  done < <(env)
  exec "$java" "${opts[@]}" -Duser.home="${HOME}" \
    -Xms"${SPARK_EXECUTOR_MEMORY}" -Xmx"${SPARK_EXECUTOR_MEMORY}" \
    -cp "$(spark_classpath)" \
    org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
    --driver-url "${SPARK_DRIVER_URL}" \
    --executor-id "${SPARK_EXECUTOR_ID}" \
    --cores "${SPARK_EXECUTOR_CORES}" \
    --app-id "${SPARK_APPLICATION_ID}" \
    --hostname "${SPARK_EXECUTOR_POD_IP}" \
    --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID:-0}" \
    --podName "${SPARK_EXECUTOR_POD_NAME:-$(hostname)}"
}

main() {
  ensure_user
  case "${1:-}" in
    driver) shift; run_driver "$@" ;;
    executor) shift; run_executor ;;
    "") exec fruit-pipeline --help ;;
    *) exec "$@" ;;
  esac
}

main "$@"
