"""spark-operator v2.5.2 on the local cluster, installed as its Helm chart would, controller and webhook out of cluster.

From the chart in the release tarball (tests/k8s/build-spark-operator.sh unpacks and builds it): the CRDs, then
`helm template` with the values k8s/kind/e2e.sh uses, applied without the Deployments (their pods' images are
not buildable here). The two processes run the Deployments' own arguments with the ServiceAccounts' tokens
(`kubectl create token`), so RBAC is the chart's; the controller's spark-submit is the venv's pyspark. The webhook Service keeps its name, port and ClusterIP but
gets no selector: its EndpointSlice points at the webhook process on the node IP.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .localcluster import NODE_IP, ROOT, Cluster, kubeconfig

VERSION = "2.5.2"
OPERATOR_DIR = ROOT / ".cache" / "spark-operator" / VERSION
BINARY = OPERATOR_DIR / "bin" / "spark-operator"
CHART = OPERATOR_DIR / "src" / "charts" / "spark-operator-chart"
NAMESPACE = "spark-operator"
CLUSTER_KINDS = {"ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
KEPT_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
              "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Service"}


def chart_values(job_namespace: str) -> list[str]:
    """The same settings k8s/kind/e2e.sh passes; metrics off (two processes would share :8080 on one host)."""
    return ["--set", f"spark.jobNamespaces={{{job_namespace}}}", "--set", "spark.serviceAccount.create=false",
            "--set", "spark.rbac.create=false", "--set", "webhook.enable=true",
            "--set", "prometheus.metrics.enable=false"]


def wait_established(c: Cluster, *crds: str) -> None:
    """Until every CRD is Established (served)."""
    def established() -> bool:
        return all(any(cond["type"] == "Established" and cond["status"] == "True"
                       for cond in c.get("crd", crd).get("status", {}).get("conditions", [])) for crd in crds)
    c.wait(f"CRDs {', '.join(crds)}", established, 60)


def render_chart(c: Cluster, helm: str, job_namespace: str) -> list[dict]:
    out = c.run(helm, "template", "spark-operator", str(CHART), "--namespace", NAMESPACE, *chart_values(job_namespace))
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def container_args(docs: list[dict], component: str) -> list[str]:
    """The `args` of the chart's controller or webhook Deployment."""
    for doc in docs:
        if doc["kind"] == "Deployment" and doc["metadata"]["name"].endswith(component):
            return doc["spec"]["template"]["spec"]["containers"][0]["args"]
    raise LookupError(f"no {component} Deployment in the spark-operator chart")


def service_account(docs: list[dict], component: str) -> str:
    for doc in docs:
        if doc["kind"] == "Deployment" and doc["metadata"]["name"].endswith(component):
            return doc["spec"]["template"]["spec"]["serviceAccountName"]
    raise LookupError(component)


def install(c: Cluster, helm: str, job_namespace: str) -> None:
    """CRDs, RBAC and webhook configurations of the chart, then the controller and webhook processes."""
    c.kubectl("create", "namespace", NAMESPACE)
    c.kubectl("create", "namespace", job_namespace)  # the operator's job namespaces must exist first (as in e2e.sh)
    c.kubectl("apply", "--server-side", "-f", str(CHART / "crds"))
    wait_established(c, "sparkapplications.sparkoperator.k8s.io", "scheduledsparkapplications.sparkoperator.k8s.io")
    docs = render_chart(c, helm, job_namespace)
    kept = []
    for doc in docs:
        if doc["kind"] not in KEPT_KINDS:
            continue
        if doc["kind"] == "Service":
            doc["spec"].pop("selector", None)
        if doc["kind"] not in CLUSTER_KINDS:
            doc["metadata"].setdefault("namespace", NAMESPACE)
        kept.append(doc)
    c.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(kept))
    webhook_service = next(d for d in kept if d["kind"] == "Service" and "webhook" in d["metadata"]["name"])
    port = webhook_service["spec"]["ports"][0]
    c.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=json.dumps({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": webhook_service["metadata"]["name"] + "-node",
                     "labels": {"kubernetes.io/service-name": webhook_service["metadata"]["name"]}},
        "addressType": "IPv4", "endpoints": [{"addresses": [NODE_IP], "conditions": {"ready": True}}],
        "ports": [{"name": port["name"], "port": port["port"], "protocol": "TCP"}]}))
    for component, health_port in (("controller", 18081), ("webhook", 18082)):
        start_component(c, docs, component, health_port)
    wait_webhook(c, port["port"])


def start_component(c: Cluster, docs: list[dict], component: str, health_port: int) -> None:
    account = service_account(docs, component)
    token = c.kubectl("create", "token", account, "-n", NAMESPACE, "--duration=12h").stdout.strip()
    config = c.state / f"spark-operator-{component}.kubeconfig"
    config.write_text(kubeconfig(c.state / "pki" / "ca.crt", token))
    config.chmod(0o600)
    args = [a for a in container_args(docs, component) if not a.startswith("--health-probe-bind-address")]
    args.append(f"--health-probe-bind-address=127.0.0.1:{health_port}")
    if component == "webhook":
        cert_dir = c.state / "webhook-certs"
        cert_dir.mkdir(exist_ok=True)
        args.append(f"--webhook-cert-dir={cert_dir}")
    env = {**c.env(), "KUBECONFIG": str(config)}
    if component == "controller":
        # The controller runs spark-submit (cluster mode) itself: Spark from the venv's pyspark, the API server on
        # loopback (its certificate names 127.0.0.1), credentials from KUBECONFIG.
        import pyspark
        env.update(SPARK_HOME=str(Path(pyspark.__file__).parent), KUBERNETES_SERVICE_HOST="127.0.0.1",
                   KUBERNETES_SERVICE_PORT="6443")
    c.start(f"spark-operator-{component}", [str(BINARY), *args], env=env)


def wait_webhook(c: Cluster, port: int) -> None:
    """Until the webhook serves TLS on the node IP and its MutatingWebhookConfiguration carries the CA bundle."""
    def serving() -> bool:
        c.run("python3", "-c", f"import socket; socket.create_connection(('{NODE_IP}', {port}), 2).close()",
              timeout=10)
        configs = c.get("mutatingwebhookconfigurations")["items"]
        return any(hook.get("clientConfig", {}).get("caBundle") for cfg in configs for hook in cfg["webhooks"])
    c.wait("the spark-operator webhook", serving, 90, component="spark-operator-webhook")
