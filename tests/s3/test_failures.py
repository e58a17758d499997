"""One-line messages for S3A failures, from exception texts captured against SeaweedFS (pure, no Spark)."""

from fruit_pipeline.failures import describe

DENIED = ("An error occurred while calling o63.load.\n: java.nio.file.AccessDeniedException: s3a://runs/out/manifest.json: "
          "getFileStatus on s3a://runs/out/manifest.json: software.amazon.awssdk.services.s3.model.S3Exception: null "
          "(Service: S3, Status Code: 403, Request ID: 18EB127E334DBD68):null\n\tat org.apache.hadoop.fs.s3a.S3AUtils")
NO_BUCKET = ("org.apache.hadoop.fs.s3a.UnknownStoreException: `s3a://nobucket/bank': getFileStatus on s3a://nobucket/bank: "
             "software.amazon.awssdk.services.s3.model.NoSuchBucketException: The specified bucket does not exist "
             "(Service: S3, Status Code: 404, Request ID: 18EB128233BF3996):NoSuchBucket")
NOT_FOUND = "java.io.FileNotFoundException: No such file or directory: s3a://runs/bank/Test/x.jpg\n\tat org.apache"


def test_access_denied_names_bucket_and_code():
    line = describe(RuntimeError(DENIED))
    assert line.startswith("access denied by S3 bucket runs (HTTP 403) on s3a://runs/out/manifest.json")
    assert "\n" not in line


def test_access_denied_prefers_the_s3_error_code():
    text = DENIED.replace("S3Exception: null", "S3Exception: SignatureDoesNotMatch")
    assert "(SignatureDoesNotMatch)" in describe(RuntimeError(text))


def test_missing_bucket():
    assert describe(RuntimeError(NO_BUCKET)) == "S3 bucket nobucket does not exist (NoSuchBucket) for s3a://nobucket/bank"


def test_missing_object():
    assert describe(RuntimeError(NOT_FOUND)) == "not found in S3 bucket runs: s3a://runs/bank/Test/x.jpg"


def test_other_errors_keep_the_generic_line():
    assert describe(ValueError("boom\nmore")) == "ValueError: boom"
