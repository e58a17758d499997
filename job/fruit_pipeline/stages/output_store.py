"""The few file operations the output contract needs, on local disk (os) or S3 (boto3), without Spark.

Paths given to a store are relative to its root (the `--output` URI), `/`-separated. Directories exist only
implicitly: `list_files` returns files (S3: objects) and nothing else.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from ..errors import UsageError

S3_SCHEMES = ("s3", "s3a")
PRECONDITION_FAILED = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


class Store(Protocol):
    uri: str

    def kind(self) -> str:
        """'missing', 'file' or 'dir' (S3: 'dir' when any object has the prefix, 'file' for an object at it)."""

    def list_files(self, rel: str = "") -> list[str]:
        """Every file below `rel`, relative to the root, sorted."""

    def read_text(self, rel: str) -> str | None:
        """The file's text, or None when it does not exist."""

    def write_text(self, rel: str, text: str) -> None: ...

    def create_exclusive(self, rel: str, text: str) -> bool:
        """Create the file only if it does not exist (atomic); False when it already did."""

    def read_versioned(self, rel: str) -> tuple[str, str] | None:
        """(text, version) of a small file, or None; the version changes whenever the file is rewritten."""

    def swap_if(self, rel: str, text: str, version: str) -> str | None:
        """Replace the file only if it is still at `version` (its name never disappears); the new version or None."""

    def take_over(self, rel: str, text: str, version: str) -> str | None:
        """Like `swap_if`, but exact when several processes try at once: at most one succeeds."""

    def delete_if(self, rel: str, version: str) -> bool: ...

    def delete_files(self, rels: list[str]) -> None: ...

    def delete_tree(self, rel: str) -> None: ...

    def move_tree(self, src: str, dst: str) -> None:
        """Move every file below `src` to the same place below `dst` (which must hold no file)."""


def local_path(uri: str) -> Path | None:
    """The local path of a plain path or file: URI, else None."""
    if uri.startswith("file:"):
        return Path(urlparse(uri).path)
    return None if "://" in uri else Path(uri)


class LocalStore:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.root = local_path(uri)

    def _p(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def kind(self) -> str:
        try:
            mode = self.root.stat().st_mode
        except FileNotFoundError:
            return "missing"
        except NotADirectoryError:
            return "file"  # a file is in the way
        return "dir" if stat.S_ISDIR(mode) else "file"

    def list_files(self, rel: str = "") -> list[str]:
        base = self._p(rel)
        if not base.is_dir():
            return [rel] if base.is_file() else []
        found = []
        for folder, _dirs, files in os.walk(base):
            found += [(Path(folder) / name).relative_to(self.root).as_posix() for name in files]
        return sorted(found)

    def read_text(self, rel: str) -> str | None:
        try:
            return self._p(rel).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, rel: str, text: str) -> None:
        path = self._p(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        part.write_text(text, encoding="utf-8")
        part.replace(path)  # readers never see a half-written file

    def create_exclusive(self, rel: str, text: str) -> bool:
        """The content is written to a private file first, then hard-linked to the name (link(2) fails if the name
        exists): nobody ever reads a half-written file."""
        path = self._p(rel)
        for _ in range(3):  # the folder may vanish between mkdir and link (a run ending and tidying up)
            path.parent.mkdir(parents=True, exist_ok=True)
            private = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            try:
                private.write_text(text, encoding="utf-8")
                os.link(private, path)
                return True
            except FileExistsError:
                return False
            except FileNotFoundError:
                continue
            finally:
                private.unlink(missing_ok=True)
        raise FileNotFoundError(f"cannot create {path}")

    def read_versioned(self, rel: str) -> tuple[str, str] | None:
        text = self.read_text(rel)
        return None if text is None else (text, text)  # our lock texts carry a timestamp: text is the version

    def swap_if(self, rel: str, text: str, version: str) -> str | None:
        """Checked, then os.replace (atomic: the name always exists). Exact against other writers only when they
        use `take_over`, which moves the name away first."""
        if self.read_text(rel) != version:
            return None
        path = self._p(rel)
        private = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        private.write_text(text, encoding="utf-8")
        os.replace(private, path)
        return text

    def take_over(self, rel: str, text: str, version: str) -> str | None:
        """rename(2) the file to a private name (only one process can), check it is the version seen, then create
        the new one exclusively; anything else puts back what was moved and gives up."""
        path = self._p(rel)
        moved = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.taken")
        try:
            os.rename(path, moved)
        except FileNotFoundError:
            return None
        try:
            if moved.read_text(encoding="utf-8") != version:
                try:
                    os.link(moved, path)  # not what we saw: someone else's fresh lock, give it back
                except FileExistsError:
                    pass
                return None
            return text if self.create_exclusive(rel, text) else None
        finally:
            moved.unlink(missing_ok=True)

    def delete_if(self, rel: str, version: str) -> bool:
        if self.read_text(rel) != version:
            return False
        self._p(rel).unlink(missing_ok=True)
        return True

    def delete_files(self, rels: list[str]) -> None:
        for rel in rels:
            self._p(rel).unlink(missing_ok=True)
        for rel in sorted({str(Path(r).parent) for r in rels}, key=len, reverse=True):
            self._prune(Path(rel))

    def _prune(self, rel: Path) -> None:
        """Remove now-empty folders from `rel` up to (not including) the root."""
        while str(rel) not in ("", "."):
            try:
                self._p(str(rel)).rmdir()
            except OSError:
                return
            rel = rel.parent

    def delete_tree(self, rel: str) -> None:
        shutil.rmtree(self._p(rel), ignore_errors=True)

    def move_tree(self, src: str, dst: str) -> None:
        target = self._p(dst)
        if target.exists():
            self._prune_empty(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self._p(src), target)  # one atomic rename on the same filesystem

    @staticmethod
    def _prune_empty(path: Path) -> None:
        """Remove a tree of empty folders (left after deleting our files); fails if any file remains."""
        for folder, _dirs, _files in sorted(os.walk(path), key=lambda w: len(w[0]), reverse=True):
            os.rmdir(folder)


class S3Store:
    """s3:// or s3a:// through boto3; credentials from the AWS default chain, endpoint as the job's S3A uses."""

    def __init__(self, uri: str, endpoint: str = "", region: str = "", path_style: bool = False, client=None) -> None:
        url = urlparse(uri)
        self.uri, self.bucket, self.prefix = uri, url.netloc, url.path.strip("/")
        self.client = client or _client(endpoint, region, path_style)

    def _key(self, rel: str) -> str:
        return "/".join(p for p in (self.prefix, rel.strip("/")) if p)

    def _keys(self, rel: str) -> list[str]:
        base = self._key(rel)
        prefix = base + "/" if base else ""
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [obj["Key"] for obj in page.get("Contents", [])]
        return keys

    def kind(self) -> str:
        if self._keys(""):
            return "dir"
        return "file" if self.prefix and self.read_text("") is not None else "missing"

    def list_files(self, rel: str = "") -> list[str]:
        cut = len(self._key("")) + 1 if self.prefix else 0
        return sorted(key[cut:] for key in self._keys(rel))

    def read_text(self, rel: str) -> str | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(rel))["Body"].read().decode("utf-8")
        except self.client.exceptions.NoSuchKey:
            return None
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NotFound"):
                return None
            raise

    def write_text(self, rel: str, text: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(rel), Body=text.encode("utf-8"))

    def create_exclusive(self, rel: str, text: str) -> bool:
        """A conditional PUT (`If-None-Match: *`): S3 (since 2024-08), SeaweedFS and MinIO refuse it with 412
        when the key exists, so exactly one of several concurrent writers succeeds."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(rel), Body=text.encode("utf-8"), IfNoneMatch="*")
        except self.client.exceptions.ClientError as exc:
            if _precondition_failed(exc):
                return False
            raise
        return True

    def read_versioned(self, rel: str) -> tuple[str, str] | None:
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=self._key(rel))
        except self.client.exceptions.NoSuchKey:
            return None
        return got["Body"].read().decode("utf-8"), got["ETag"]

    def swap_if(self, rel: str, text: str, version: str) -> str | None:
        """A conditional PUT (`If-Match: <ETag>`): S3 (since 2024-11), SeaweedFS and MinIO refuse it with 412 once
        the object changed, so of several writers holding the same ETag exactly one succeeds."""
        try:
            put = self.client.put_object(Bucket=self.bucket, Key=self._key(rel), Body=text.encode("utf-8"),
                                         IfMatch=version)
        except self.client.exceptions.ClientError as exc:
            if _precondition_failed(exc) or exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return put["ETag"]

    def take_over(self, rel: str, text: str, version: str) -> str | None:
        return self.swap_if(rel, text, version)

    def delete_if(self, rel: str, version: str) -> bool:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(rel), IfMatch=version)
        except self.client.exceptions.ClientError as exc:
            if _precondition_failed(exc):
                return False
            raise
        return True

    def delete_files(self, rels: list[str]) -> None:
        keys = [self._key(r) for r in rels]
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})

    def delete_tree(self, rel: str) -> None:
        self.delete_files(self.list_files(rel))

    def move_tree(self, src: str, dst: str) -> None:
        """S3 has no rename: a server-side copy of each object (parallel), then the sources are deleted."""
        sources = self.list_files(src)

        def copy(rel: str) -> None:
            if rel.endswith("/"):
                return  # a folder marker: nothing to copy (the folder exists through its files)
            target = dst + rel[len(src):]
            self.client.copy({"Bucket": self.bucket, "Key": self._key(rel)}, self.bucket, self._key(target))

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(copy, sources))
        self.delete_files(sources)


def _precondition_failed(exc) -> bool:
    """412 (the condition did not hold) or 409 (a concurrent conditional write won)."""
    status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return exc.response.get("Error", {}).get("Code") in PRECONDITION_FAILED or status in ("412", "409")


def _client(endpoint: str, region: str, path_style: bool):
    import boto3
    from botocore.config import Config

    config = Config(s3={"addressing_style": "path" if path_style else "auto"}, retries={"mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None, config=config)


def open_store(uri: str, endpoint: str = "", region: str = "", path_style: bool = False) -> Store:
    """The store for `uri`: a local path / file: URI, or s3:// / s3a://; other schemes are refused (exit 2)."""
    if local_path(uri) is not None:
        return LocalStore(uri)
    scheme = urlparse(uri).scheme
    if scheme in S3_SCHEMES:
        return S3Store(uri, endpoint, region, path_style)
    raise UsageError(f"output scheme {scheme}:// is not supported (use a local path, s3a:// or s3://): {uri}")

