"""Turn an unexpected exception (often a Py4J/Spark one) into one readable line."""

from __future__ import annotations

import logging
import re
import signal
import threading
from typing import Callable

# Set on Ctrl-C (SIGINT), so that the errors of the Spark jobs it cancelled are reported as the interruption.
INTERRUPTED = threading.Event()


def note_interrupts(sc) -> None:
    """Replace pyspark's SIGINT handler, which cancels the jobs through the Py4J connection the main thread is
    blocked on (a reentrant call that logs pages of Py4J tracebacks). Ours sets INTERRUPTED, silences logging
    (nothing may be reported done any more), cancels the jobs from another thread (its own connection) and
    raises KeyboardInterrupt in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return

    def cancel() -> None:
        try:
            sc.cancelAllJobs()
        except Exception:  # noqa: BLE001 - the JVM may already be going away; exiting stops it anyway
            pass

    def handler(signum, frame):
        INTERRUPTED.set()
        logging.disable(logging.CRITICAL)
        threading.Thread(target=cancel, name="cancel-spark-jobs", daemon=True).start()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)


# Other modules may register more matchers: exception text -> one line, or None.
MATCHERS: list[Callable[[str], str | None]] = []

_NOISE = re.compile(r"^(An error occurred while calling \S+\.\s*|py4j\.protocol\.Py4JJavaError:\s*)")
_S3_URI = re.compile(r"\bs3a?://([a-z0-9][a-z0-9.\-]*)(/[^\s`':]*)?")
_S3_CODE = re.compile(r"\b(SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied|ExpiredToken|InvalidToken|"
                      r"NoSuchBucket|AllAccessDisabled)\b")
_STATUS = re.compile(r"Status Code: (\d{3})")


def _s3_location(text: str, markers: tuple[str, ...]) -> tuple[str, str] | None:
    """(bucket, uri) of the first s3:// or s3a:// URI, when the text carries one of the exception markers."""
    if not any(marker in text for marker in markers):
        return None
    match = _S3_URI.search(text)
    return (match.group(1), match.group(0)) if match else None


def _s3_code(text: str) -> str:
    """The S3 error code if the text names one, else the HTTP status."""
    code = _S3_CODE.search(text)
    if code:
        return code.group(1)
    status = _STATUS.search(text)
    return f"HTTP {status.group(1)}" if status else "no code"


def s3_access_denied(text: str) -> str | None:
    """Wrong/missing credentials or no permission (S3A AccessDeniedException, HTTP 403)."""
    where = _s3_location(text, ("AccessDeniedException", "Status Code: 403"))
    if where is None:
        return None
    bucket, uri = where
    return (f"access denied by S3 bucket {bucket} ({_s3_code(text)}) on {uri}: check the credentials "
            "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity or Pod Identity role) and the bucket policy")


def s3_missing_bucket(text: str) -> str | None:
    """The bucket does not exist (S3A UnknownStoreException / NoSuchBucket)."""
    where = _s3_location(text, ("UnknownStoreException", "NoSuchBucket"))
    return f"S3 bucket {where[0]} does not exist (NoSuchBucket) for {where[1]}" if where else None


def s3_not_found(text: str) -> str | None:
    """A missing key or prefix (S3A FileNotFoundException)."""
    where = _s3_location(text, ("FileNotFoundException",))
    return f"not found in S3 bucket {where[0]}: {where[1]}" if where else None


MATCHERS.extend([s3_access_denied, s3_missing_bucket, s3_not_found])


def describe(exc: BaseException) -> str:
    text = str(exc)
    for matcher in MATCHERS:
        line = matcher(text)
        if line:
            return line
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not _NOISE.match(ln.strip())]
    head = lines[0] if lines else type(exc).__name__
    return f"{type(exc).__name__}: {head[:400]}"
