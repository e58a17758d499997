"""`fruit-pipeline upload`: copy a local bank to s3:// or s3a://, in parallel, skipping objects already there.

Junk (macOS `._*` and `__MACOSX/`, `.ipynb_checkpoints/`, `.DS_Store`, `Thumbs.db`, ...) and dangling links are
left out and counted, under the same rules as `run` (bank_files).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from ..bank_files import DANGLING, junk_reason
from ..errors import UsageError

SHA_KEY = "sha256"


def split_dest(dest: str) -> tuple[str, str]:
    """s3://bucket/prefix or s3a://bucket/prefix -> (bucket, prefix without slashes at the ends)."""
    url = urlparse(dest)
    if url.scheme not in ("s3", "s3a") or not url.netloc:
        raise UsageError(f"--dest must be s3://bucket/prefix or s3a://bucket/prefix, got {dest!r}")
    return url.netloc, url.path.strip("/")


def local_files(source: Path) -> tuple[list[Path], Counter]:
    """(files to send in a stable order, left-out files counted by reason) under `source`."""
    files: list[Path] = []
    left_out: Counter = Counter()
    for path in sorted(source.rglob("*")):
        reason = junk_reason(path.relative_to(source).as_posix())
        if reason is None and path.is_symlink() and not path.exists():
            reason = DANGLING
        if reason is not None:
            left_out[reason] += not path.is_dir()
        elif path.is_file():
            files.append(path)
    return files, +left_out


def plan(source: Path, prefix: str, files: list[Path] | None = None) -> list[tuple[Path, str]]:
    """(local file, object key) for every file under `source` that is not junk (`files`, when already walked), in a
    stable order."""
    files = local_files(source)[0] if files is None else files
    return [(p, "/".join(filter(None, [prefix, p.relative_to(source).as_posix()]))) for p in files]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def already_there(client, bucket: str, key: str, path: Path, digest: str) -> bool:
    """True when the object exists with the same size and recorded sha256."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return head["ContentLength"] == path.stat().st_size and head.get("Metadata", {}).get(SHA_KEY) == digest


def upload_one(client, bucket: str, path: Path, key: str) -> bool:
    """Upload one file unless identical; True when bytes were sent."""
    digest = sha256(path)
    if already_there(client, bucket, key, path, digest):
        return False
    client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), Metadata={SHA_KEY: digest})
    return True


def upload(source: Path, dest: str, workers: int = 8, client=None,
           files: list[Path] | None = None) -> tuple[int, int]:
    """Return (uploaded, skipped); `files`: the bank as `local_files` walked it, to walk it only once."""
    import boto3

    if not source.is_dir():
        raise UsageError(f"--source is not a directory: {source}")
    bucket, prefix = split_dest(dest)
    client = client or boto3.client("s3")
    jobs = plan(source, prefix, files)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sent = list(pool.map(lambda job: upload_one(client, bucket, *job), jobs))
    return sum(sent), len(sent) - sum(sent)


def cmd_upload(args: argparse.Namespace) -> int:
    source = Path(args.source)
    files, left_out = local_files(source)  # empty for a missing source, which `upload` refuses in one line
    uploaded, skipped = upload(source, args.dest, args.workers, files=files)
    line = f"uploaded {uploaded}, skipped {skipped} (already present) to {args.dest}"
    if left_out:
        line += f"; left out {sum(left_out.values())} junk file(s): " + \
            ", ".join(f"{n} {reason}" for reason, n in sorted(left_out.items()))
    print(line)
    return 0


def register(sub) -> None:
    """Add the `upload` subcommand to the CLI's subparsers."""
    p = sub.add_parser("upload", help="copy a local image bank to S3 (resumable)")
    p.add_argument("--source", required=True, help="local bank directory")
    p.add_argument("--dest", required=True, help="s3://bucket/prefix or s3a://bucket/prefix")
    p.add_argument("--workers", type=int, default=int(os.environ.get("UPLOAD_WORKERS", "8")), metavar="N",
                   help="parallel uploads (default 8, or UPLOAD_WORKERS)")
    p.set_defaults(handler=cmd_upload)
