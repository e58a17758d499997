"""Peak memory and CPU of a process tree (driver JVM + Python workers), sampled from /proc."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _rss_mb(pid: int) -> tuple[float, float]:
    """(resident MB, of which anonymous MB) from /proc/PID/status; file-backed pages (mapped jars, memory-mapped
    spill blocks) are the difference: page cache the kernel can reclaim, not memory the process needs."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
    except OSError:
        return 0.0, 0.0
    kb = [int(fields.get(key, "0 kB").split()[0]) for key in ("VmRSS", "RssAnon")]
    return kb[0] / 1024, kb[1] / 1024


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def role(cmdline: str) -> str:
    """Which part of a run a process is: jvm, python_worker or driver_python (Spark); ray_worker (`ray::` task and
    actor processes) or ray_runtime (raylet, GCS, dashboard, monitors) for the Ray Data peer."""
    if "/java " in cmdline or cmdline.startswith("java "):
        return "jvm"
    if "pyspark.daemon" in cmdline or "pyspark.worker" in cmdline or "pyspark/daemon" in cmdline:
        return "python_worker"
    if cmdline.startswith("ray::"):
        return "ray_worker"
    if "/site-packages/ray/" in cmdline:
        return "ray_runtime"
    return "driver_python"


def descendants(root: int) -> list[int]:
    """root and every process below it (one scan of /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                children.setdefault(st[0], []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


@dataclass
class TreeSample:
    """Peaks over a run: whole tree, and per role (sum of that role's processes at one instant)."""

    peak_total_mb: float = 0.0
    peak_by_role_mb: dict[str, float] = field(default_factory=dict)
    peak_anon_mb: float = 0.0
    peak_anon_by_role_mb: dict[str, float] = field(default_factory=dict)
    cpu_s_by_pid: dict[int, float] = field(default_factory=dict)
    role_by_pid: dict[int, str] = field(default_factory=dict)
    samples: int = 0

    def add(self, rss_by_pid: dict[int, float], anon_by_pid: dict[int, float] | None = None) -> None:
        self.samples += 1
        self.peak_total_mb = self._peaks(rss_by_pid, self.peak_total_mb, self.peak_by_role_mb)
        if anon_by_pid is not None:
            self.peak_anon_mb = self._peaks(anon_by_pid, self.peak_anon_mb, self.peak_anon_by_role_mb)

    def _peaks(self, mb_by_pid: dict[int, float], peak: float, by_role: dict[str, float]) -> float:
        """Update the per-role peaks in place; return the new peak of the sum."""
        per_role: dict[str, float] = {}
        for pid, mb in mb_by_pid.items():
            per_role[self.role_by_pid[pid]] = per_role.get(self.role_by_pid[pid], 0.0) + mb
        for name, mb in per_role.items():
            by_role[name] = max(by_role.get(name, 0.0), mb)
        return max(peak, sum(mb_by_pid.values()))

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_s_by_pid.values())

    def as_dict(self) -> dict:
        return {"peak_rss_mb": round(self.peak_total_mb, 1),
                "peak_rss_mb_by_role": {k: round(v, 1) for k, v in sorted(self.peak_by_role_mb.items())},
                "peak_anon_mb": round(self.peak_anon_mb, 1),
                "peak_anon_mb_by_role": {k: round(v, 1) for k, v in sorted(self.peak_anon_by_role_mb.items())},
                "cpu_s": round(self.cpu_s, 2), "rss_samples": self.samples}


def sample_once(root: int, acc: TreeSample) -> None:
    rss: dict[int, float] = {}
    anon: dict[int, float] = {}
    for pid in descendants(root):
        st = _stat(pid)
        if st is None:
            continue
        acc.role_by_pid[pid] = role(_cmdline(pid))  # re-read: spark-submit (bash) execs the JVM in place
        acc.cpu_s_by_pid[pid] = st[1]
        rss[pid], anon[pid] = _rss_mb(pid)
    if rss:
        acc.add(rss, anon)


def run_sampled(cmd: list[str], interval: float = 0.2, **popen) -> tuple[subprocess.CompletedProcess, TreeSample, float]:
    """Run `cmd`, sampling its process tree every `interval` s; returns (result, samples, wall seconds)."""
    acc = TreeSample()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            sample_once(proc.pid, acc)
            stop.wait(interval)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    watcher.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), acc, wall
