"""The output contract: checked before Spark starts, one writer at a time, staged writes, commit at the end.

- A run writes `features/ errors/ models/ report/` into `OUT/.fruit-pipeline/staging/<run id>/`; the previous
  output stays untouched (and valid) until the commit, which moves them into place and writes `manifest.json`
  last. A failed or interrupted run changes nothing outside `.fruit-pipeline/`.
- The files a run committed are recorded in `OUT/.fruit-pipeline/files.json` (and in the manifest): only those
  are ever replaced or deleted. A folder holding files we did not write is refused unless `--overwrite`; even then
  nothing of ours may land on a file we did not write (refused), and nothing else is touched.
- One writer: `OUT/.fruit-pipeline/lock` is a lease. It is created exclusively (local disk: link(2); S3: a
  conditional PUT with `If-None-Match: *`) and renewed every quarter of `LEASE_S` (S3: `If-Match: <ETag>`). A
  claimant that finds it waits to see it renewed (holder alive: refused) or expire (holder killed: taken over,
  exactly once: local rename(2), S3 `If-Match`). A local holder whose process is gone (same host) is taken over
  at once. A holder that finds its lock renewed by someone else has lost it and does not commit.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any, Mapping
from urllib.parse import urlparse

from ..config import PipelineConfig
from ..errors import PipelineError, UsageError
from .output_store import S3_SCHEMES, LocalStore, Store, local_path, open_store

BOOK = ".fruit-pipeline"
LOCK = f"{BOOK}/lock"
LEDGER = f"{BOOK}/files.json"
STAGING = f"{BOOK}/staging"
RUNS = f"{BOOK}/runs"  # the run log: one <run id>.json per run (increment), the latest also at MANIFEST
TABLES = ("features", "errors")  # Delta tables: every file below them is ours once the ledger names them
MANIFEST = "manifest.json"
ENTRIES = ("features", "errors", "models", "report")
LEASE_S = 60.0  # a lock not renewed for this long is taken over; renewed every quarter of it


log = logging.getLogger(__name__)


class OutputBusy(UsageError):
    """Another run holds the output's lock (refused before any work, exit 2)."""


# ---- where things are: pure ---------------------------------------------------------------------------------

def location(uri: str) -> tuple[str, str, tuple[str, ...]]:
    """(family, bucket, path parts) of a URI: local paths made absolute; s3:// and s3a:// are one family."""
    path = local_path(uri)
    if path is not None:
        return "file", "", PurePosixPath(os.path.abspath(path)).parts
    url = urlparse(uri)
    family = "s3" if url.scheme in S3_SCHEMES else url.scheme
    return family, url.netloc, tuple(p for p in url.path.split("/") if p)


def overlaps(a: str, b: str) -> bool:
    """True when one location is inside the other (or they are the same)."""
    (fa, ba, pa), (fb, bb, pb) = location(a), location(b)
    n = min(len(pa), len(pb))
    return fa == fb and ba == bb and pa[:n] == pb[:n]


def check_locations(input_uri: str, output: str, models: str | None = None) -> None:
    """Refuse an output that overlaps the input (or the models it reads)."""
    if not output:
        raise UsageError("no output given: --output or `output` in the --config file")
    if overlaps(input_uri, output):
        raise UsageError(f"the output {output} and the input {input_uri} overlap: a run would read its own output; "
                         "choose an output outside the bank")
    if models and overlaps(models, output):
        raise UsageError(f"the models {models} are inside the output {output}, which the run replaces; "
                         "choose another output")


def owned_files(ledger_text: str | None, manifest_text: str | None, files: list[str]) -> set[str]:
    """The files of `files` that a previous run of ours wrote: those its ledger lists; without a ledger (output of
    an older version), everything under our entries when its manifest is ours."""
    if ledger_text is not None:
        ledger = json.loads(ledger_text)
        tables = set(ledger.get("tables", []))
        return (set(ledger.get("files", [])) | {f for f in files if is_table_file(f, tables)}) & set(files)
    if manifest_text is not None and '"run_id"' in manifest_text:
        return {f for f in files if _top(f) in ENTRIES or f == MANIFEST}
    return set()


# What Delta writes below a table (data files, partition folders, the log and its checksums); anything else there
# (a user's file) is not ours even in a table we own.
TABLE_FILE = re.compile(r"(_delta_log/.+|(split=[^/]+/)?\.?part-[^/]+\.(parquet|parquet\.crc))")


def is_table_file(rel: str, tables: set[str] | tuple[str, ...] = TABLES) -> bool:
    """True for a file Delta writes below one of `tables` (relative path `table/...`)."""
    top, _, rest = rel.partition("/")
    return top in tables and bool(TABLE_FILE.fullmatch(rest))


def _top(rel: str) -> str:
    return rel.split("/", 1)[0]


def refusal(uri: str, files: list[str], owned: set[str], overwrite: bool) -> str | None:
    """Why the output may not be written, or None. `files` excludes our bookkeeping folder."""
    foreign = [f for f in files if f not in owned]
    if foreign and not owned and not overwrite:
        return (f"the output {uri} is not empty and was not written by fruit-pipeline ({_some(foreign)}); "
                "choose an empty or new folder, or pass --overwrite to write beside those files (they are kept)")
    ours = [f for f in foreign if _top(f) in ENTRIES or f == MANIFEST]
    if ours:
        return (f"the output {uri} holds files fruit-pipeline did not write where it writes ({_some(ours)}); "
                f"move them away: {', '.join(ENTRIES)}/ and {MANIFEST} are replaced by every run")
    return None


def _some(files: list[str], n: int = 3) -> str:
    more = f" and {len(files) - n} more" if len(files) > n else ""
    return ", ".join(files[:n]) + more


# ---- the guard ----------------------------------------------------------------------------------------------

@dataclass
class OutputGuard:
    """Holds the output's lock from `claim` to `close`; `staging_uri` is where Spark writes."""

    store: Store
    run_id: str
    owned: set[str] = field(default_factory=set)
    locked: bool = False
    lost: bool = False
    version: str = ""
    lease_s: float = field(default_factory=lambda: float(os.environ.get("FRUIT_PIPELINE_LOCK_LEASE_S", LEASE_S)))

    @property
    def staging_rel(self) -> str:
        return f"{STAGING}/{self.run_id}"

    @property
    def staging_uri(self) -> str:
        return self.store.uri.rstrip("/") + "/" + self.staging_rel

    @classmethod
    def claim(cls, cfg: PipelineConfig, run_id: str, overwrite: bool = False, models: str | None = None,
              env: Mapping[str, str] | None = None) -> "OutputGuard":
        """Check the output (before Spark starts), then take its lock. Raises UsageError (exit 2) on refusal."""
        check_locations(cfg.input, cfg.output, models)
        store = _store(cfg, os.environ if env is None else env)
        guard = cls(store, run_id)
        guard._inspect(overwrite)  # read-only: a refused folder is never written to
        _prepare(store)
        guard._lock()
        try:
            guard._inspect(overwrite)  # again, now that nobody else can change it
            store.delete_tree(STAGING)  # left by runs that were killed: ours, and nobody uses them now
        except BaseException:
            guard.close()
            raise
        return guard

    def _inspect(self, overwrite: bool) -> None:
        kind = _s3_call(self.store, self.store.kind)
        if kind == "file":
            raise UsageError(f"the output {self.store.uri} is a file, not a folder")
        files = [f for f in _s3_call(self.store, self.store.list_files) if _top(f) != BOOK]
        self.owned = owned_files(self.store.read_text(LEDGER), self.store.read_text(MANIFEST), files)
        why = refusal(self.store.uri, files, self.owned, overwrite)
        if why:
            raise UsageError(why)

    def _holder(self) -> str:
        now = time.time()
        return json.dumps({"run_id": self.run_id, "host": socket.gethostname(), "pid": os.getpid(),
                           "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "renewed_at": now, "lease_s": self.lease_s})

    def _lock(self) -> None:
        """Take the lock: create it, or take over one whose holder is gone (same host, dead pid) or whose lease
        expired without renewal; a holder seen renewing its lease is alive: refused."""
        deadline = time.monotonic() + 4 * self.lease_s  # a claim never waits for ever
        other: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if _s3_call(self.store, self.store.create_exclusive, LOCK, self._holder()):
                self._held()
                return
            seen = self.store.read_versioned(LOCK)
            if seen is None:
                continue  # released meanwhile
            text, version = seen
            other = _parse(text)
            if self._expired(other) or (isinstance(self.store, LocalStore) and _gone(other)):
                if self.store.take_over(LOCK, self._holder(), version):
                    log.warning("took over the lock of run %s (%s): its process is gone or its lease expired",
                                other.get("run_id", "?"), other.get("host", "?"))
                    self._held()
                    return
                continue
            if self._renewed(version, other):
                break
        raise OutputBusy(f"another fruit-pipeline run (run {other.get('run_id', '?')}, host {other.get('host', '?')}, "
                         f"pid {other.get('pid', '?')}, since {other.get('started_at', '?')}) is writing to "
                         f"{self.store.uri}; wait for it to end (if it was killed, its lock expires "
                         f"{other.get('lease_s', '?')} s after its last renewal, or delete "
                         f"{self.store.uri.rstrip('/')}/{LOCK})")

    @staticmethod
    def _expired(holder: Mapping[str, Any]) -> bool:
        renewed, lease = holder.get("renewed_at"), holder.get("lease_s")
        if not isinstance(renewed, (int, float)) or not isinstance(lease, (int, float)):
            return False  # not a lock we can judge (another version): only its holder or a human removes it
        return time.time() > renewed + lease

    def _renewed(self, version: str, holder: Mapping[str, Any]) -> bool:
        """Watch the lock until its holder renews it (True: alive) or it changes hands or expires (False)."""
        until = time.monotonic() + min(self.lease_s, float(holder.get("lease_s") or self.lease_s)) + 1
        while time.monotonic() < until:
            time.sleep(min(0.5, self.lease_s / 8))
            seen = self.store.read_versioned(LOCK)
            if seen is None or self._expired(_parse(seen[0])):
                return False
            if seen[1] != version:
                return _parse(seen[0]).get("run_id") == holder.get("run_id")
        return False

    def _held(self) -> None:
        self.version = self.store.read_versioned(LOCK)[1]
        self.locked = True
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="output-lock-lease", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        """Renew the lease every quarter of it; a lock changed by someone else means it is lost (commit refuses)."""
        while not self._stop.wait(self.lease_s / 4):
            try:
                renewed = self.store.swap_if(LOCK, self._holder(), self.version)
            except Exception as exc:  # noqa: BLE001 - a transient S3 error: try again at the next beat
                log.debug("lock renewal failed: %s", exc)
                continue
            if renewed is None:
                self.lost = True
                log.warning("the output's lock was taken by another run: this run will not commit")
                return
            self.version = renewed

    def own_tables(self) -> None:
        """Record the Delta tables as ours before an append writes into them in place (a killed append then leaves
        nothing a rerun would refuse as foreign)."""
        current = [f for f in self.store.list_files() if _top(f) != BOOK]
        kept = sorted(self.owned & set(current))
        self.store.write_text(LEDGER, json.dumps({"files": kept, "tables": list(TABLES)}))
        self.owned = set(kept)

    def commit(self, manifest: dict[str, Any], in_place: bool = False) -> dict[str, Any]:
        """Replace our previous files by the staged ones, then write the run log entry and the manifest (last).
        `in_place` (append): the tables were committed in place by Delta; only the entries staged now (models,
        report) replace their earlier files, and models not refitted are kept. Returns the manifest."""
        if self.lost:
            raise PipelineError(f"lost the lock of {self.store.uri} to another run (its lease expired): "
                                "nothing was committed")
        staged = self.store.list_files(self.staging_rel)
        cut = len(self.staging_rel) + 1
        new = sorted(f[cut:] for f in staged)
        current = [f for f in self.store.list_files() if _top(f) != BOOK]
        if in_place:  # what Delta committed into the tables during this run
            self.owned |= {f for f in current if is_table_file(f)}
        why = refusal(self.store.uri, current, self.owned, overwrite=True)
        if why:  # someone put files there during the run: keep everything, fail
            raise PipelineError(why)
        replaced = {_top(f) for f in new}
        old = sorted(f for f in self.owned & set(current)
                     if not in_place or (_top(f) in replaced and not is_table_file(f)))
        kept = sorted(f for f in self.owned & set(current) if f not in old and not is_table_file(f))
        tables = list(TABLES)
        self.store.write_text(LEDGER, json.dumps({"files": sorted(set(old) | set(kept) | set(new) | {MANIFEST}),
                                                  "tables": tables}))
        self.store.delete_files([MANIFEST])  # from here on the output is incomplete until the new manifest
        self.store.delete_files([f for f in old if f != MANIFEST])
        for entry in sorted({_top(f) for f in new}):
            self.store.move_tree(f"{self.staging_rel}/{entry}", entry)
        manifest = {**manifest, "files": new}
        text = json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
        self.store.write_text(f"{RUNS}/{self.run_id}.json", text)
        self.store.write_text(MANIFEST, text)
        files = sorted(set(kept) | set(new) | {MANIFEST})
        self.store.write_text(LEDGER, json.dumps({"files": files, "tables": tables}))
        self.owned = set(files)
        return manifest

    def close(self) -> None:
        """Remove this run's staging folder and release the lock (if still ours). Safe to call twice."""
        if not self.locked:
            return
        self._stop.set()
        self._beat.join(timeout=30)
        try:
            self.store.delete_tree(self.staging_rel)
        finally:
            self.store.delete_if(LOCK, self.version)
            self.locked = False


def _store(cfg: PipelineConfig, env: Mapping[str, str]) -> Store:
    """The output's store, reaching S3 as the job's S3A settings do: `[s3]`, else the same keys given as Spark
    settings (`--conf spark.hadoop.fs.s3a.endpoint=...`), else the AWS environment."""
    from .s3_conf import endpoint

    conf = cfg.spark.conf
    url = cfg.s3.endpoint or conf.get("spark.hadoop.fs.s3a.endpoint", "") or endpoint(cfg, env)
    if url and "://" not in url:
        url = ("http://" if conf.get("spark.hadoop.fs.s3a.connection.ssl.enabled") == "false" else "https://") + url
    region = (cfg.s3.region or conf.get("spark.hadoop.fs.s3a.endpoint.region", "") or env.get("AWS_REGION", "")
              or env.get("AWS_DEFAULT_REGION", ""))
    path_style = cfg.s3.path_style or conf.get("spark.hadoop.fs.s3a.path.style.access", "").lower() == "true"
    return open_store(cfg.output, url, region, path_style)


def _prepare(store: Store) -> None:
    """Local: create the output folder; a folder we may not create or write to is refused (exit 2)."""
    if not isinstance(store, LocalStore):
        return
    try:
        (store.root / BOOK).mkdir(parents=True, exist_ok=True)
    except PermissionError:
        raise UsageError(f"cannot write the output {store.uri}: permission denied") from None
    except (FileExistsError, NotADirectoryError):
        raise UsageError(f"cannot create the output {store.uri}: a file is in the way") from None
    except OSError as exc:
        raise UsageError(f"cannot create the output {store.uri}: {exc.strerror}") from None
    if not os.access(store.root / BOOK, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write the output {store.uri}: permission denied")


def _s3_call(store: Store, fn, *args):
    """S3 errors at the start (no bucket, no access, no endpoint) as one line (exit 1), as `failures` words them."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - botocore's ClientError/EndpointConnectionError, named below
        if not type(exc).__module__.startswith("botocore"):
            raise
        response = getattr(exc, "response", None) or {}
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        bucket = urlparse(store.uri).netloc
        if status == 403:
            raise PipelineError(f"access denied by S3 bucket {bucket} ({code}, HTTP 403) on {store.uri}: check the "
                                "credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity or Pod Identity "
                                "role) and the bucket policy") from None
        if code == "NoSuchBucket":
            raise PipelineError(f"S3 bucket {bucket} does not exist (NoSuchBucket) for {store.uri}") from None
        raise PipelineError(f"cannot use the output {store.uri}: {code or exc}") from None


def _parse(text: str | None) -> dict[str, Any]:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def _gone(holder: Mapping[str, Any]) -> bool:
    """True when the lock's process ran on this host and no longer exists."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
