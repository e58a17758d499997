"""The local cluster itself: the node, the pod network, Services through kube-proxy and cluster DNS."""

from __future__ import annotations

import json
import time

from .localcluster import API_SERVICE_IP, NODE_IP, NODE_NAME, POD_CIDR

PROBE = """
import socket
print(socket.gethostbyname("kubernetes.default.svc.cluster.local"))
print(socket.gethostbyname("seaweedfs.fruit-pipeline.svc.cluster.local"))
socket.create_connection(("kubernetes.default.svc.cluster.local", 443), 5).close()
socket.create_connection(("seaweedfs.fruit-pipeline.svc.cluster.local", 8333), 5).close()
print("connected")
"""


def run_pod(cluster, name: str, namespace: str, command: list[str], seconds: float = 120) -> tuple[dict, str]:
    """Run a pod of the job image as the chart's user with every capability dropped; (pod, its log) when it ends."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
           "spec": {"restartPolicy": "Never",
                    "securityContext": {"runAsUser": 185, "runAsNonRoot": True,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{"name": "probe", "image": "fruit-pipeline:dev", "imagePullPolicy": "Never",
                                    "command": command,
                                    "securityContext": {"allowPrivilegeEscalation": False,
                                                        "capabilities": {"drop": ["ALL"]}}}]}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        live = cluster.get("pod", name, "-n", namespace)
        if live["status"].get("phase") in ("Succeeded", "Failed"):
            break
        time.sleep(1)
    log = cluster.kubectl("logs", name, "-n", namespace, check=False).stdout
    cluster.kubectl("delete", "pod", name, "-n", namespace, "--wait=true")
    return live, log


def test_node_is_ready_with_the_built_version(cluster):
    node = cluster.get("node", NODE_NAME)
    info = node["status"]["nodeInfo"]
    assert (info["kubeletVersion"], info["containerRuntimeVersion"]) == ("v1.34.4", "containerd://1.6.20")
    assert {"type": "InternalIP", "address": NODE_IP} in node["status"]["addresses"]
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


def test_pod_resolves_and_reaches_services_by_cluster_dns(cluster, bank_in_s3):
    pod, log = run_pod(cluster, "dns-probe", "fruit-pipeline", ["python3", "-c", PROBE])
    assert pod["status"]["phase"] == "Succeeded", log
    network = POD_CIDR.rsplit(".", 1)[0] + "."
    assert pod["status"]["podIP"].startswith(network)
    seaweedfs_ip = cluster.get("service", "seaweedfs", "-n", "fruit-pipeline")["spec"]["clusterIP"]
    assert log.split() == [API_SERVICE_IP, seaweedfs_ip, "connected"]
