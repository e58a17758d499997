"""Size and modification time from the text of a Hadoop FileStatus (how the append's S3 listing reads them)."""

from fruit_pipeline.stages.listing import STATUS_TAIL


def _status(path: str, length: int, mtime: int, tail: str = "") -> str:
    """The shape of Hadoop 3.4's FileStatus.toString (S3AFileStatus appends its own fields after it)."""
    return (f"S3AFileStatus{{path={path}; isDirectory=false; length={length}; replication=1; blocksize=33554432; "
            f"modification_time={mtime}; access_time=0; owner=me; group=me; permission=rw-rw-rw-; isSymlink=false; "
            f"hasAcl=false; isEncrypted=true; isErasureCoded=false}}{tail}")


def test_size_and_mtime_are_read_from_the_status_tail():
    text = _status("s3a://b/bank/Training/Kiwi/a.jpg", 5123, 1764500000000, " isEmptyDirectory=FALSE eTag=\"x\"")
    assert STATUS_TAIL.findall(text)[-1] == ("5123", "1764500000000")


def test_a_path_that_looks_like_a_status_does_not_fool_it():
    path = "s3a://b/bank/Training/Kiwi/odd; length=1; replication=1; blocksize=1; modification_time=2; .jpg"
    assert STATUS_TAIL.findall(_status(path, 77, 1764500000123))[-1] == ("77", "1764500000123")
