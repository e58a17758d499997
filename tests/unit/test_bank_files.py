"""Which files of a bank are processed and which are skipped, with which reason (pure, no Spark)."""

import pytest

from fruit_pipeline.bank_files import (APPLEDOUBLE, CHECKPOINT, DANGLING, HIDDEN, MACOSX, NOT_IMAGE, SYSTEM_FILE,
                                       Skips, junk_reason, skip_reason, spark_hides)
from fruit_pipeline.stages.listing import escape_glob, local_root


@pytest.mark.parametrize("rel,reason", [
    ("Training/Apple/a.jpg", None),
    ("Training/Apple/2024-05-01T10:15:00.jpg", None),
    ("Apple/a.PNG", None),
    ("a.jpeg", None),
    ("Training/Apple/._a.jpg", APPLEDOUBLE),
    ("._a.jpg", APPLEDOUBLE),
    ("__MACOSX/Training/Apple/a.jpg", MACOSX),
    ("__MACOSX/Training/Apple/._a.jpg", MACOSX),
    ("Training/Apple/.ipynb_checkpoints/a-checkpoint.jpg", CHECKPOINT),
    (".ipynb_checkpoints/a.png", CHECKPOINT),
    ("Training/Apple/.DS_Store", SYSTEM_FILE),
    ("Training/Apple/Thumbs.db", SYSTEM_FILE),
    ("Training/Apple/desktop.ini", SYSTEM_FILE),
    ("Training/_Unsorted/a.jpg", HIDDEN),
    ("_Unsorted/a.jpg", HIDDEN),
    ("Training/.cache/a.jpg", HIDDEN),
    ("Training/Apple/.a.jpg", HIDDEN),
    ("Training/Apple/_a.jpg", HIDDEN),
    ("Training/Apple/a.gif", NOT_IMAGE),
    ("Training/Apple/notes.txt", NOT_IMAGE),
    ("Training/Apple/a.jpg.txt", NOT_IMAGE),
])
def test_skip_reasons(rel, reason):
    assert skip_reason(rel) == reason


def test_dangling_links_are_skipped_unless_junk():
    assert skip_reason("Training/Apple/a.jpg", dangling=True) == DANGLING
    assert skip_reason("Training/Apple/._a.jpg", dangling=True) == APPLEDOUBLE


def test_junk_is_a_subset_of_skips():
    assert junk_reason("Training/_Unsorted/a.jpg") is None and junk_reason("a/b.gif") is None
    assert junk_reason("x/.DS_Store") == SYSTEM_FILE


@pytest.mark.parametrize("name,hidden", [("_a", True), (".a", True), ("a", False), ("_a=1", False),
                                         ("_metadata", False), ("_common_metadata", False), ("a._COPYING_", True),
                                         ("a_b", False), ("a.b", False)])
def test_spark_hides_like_spark(name, hidden):
    assert spark_hides(name) is hidden


def test_skips_count_by_reason_with_examples():
    skips = Skips()
    for rel in ["a/._1.jpg", "a/._2.jpg", "a/.DS_Store", "_U/x.png"] + [f"b/._{i}.jpg" for i in range(10)]:
        skips.add(rel, skip_reason(rel))
    assert skips.files == 14 and skips.image_files == 13
    assert skips.by_reason == {APPLEDOUBLE: 12, SYSTEM_FILE: 1, HIDDEN: 1}
    assert skips.examples[APPLEDOUBLE] == ["a/._1.jpg", "a/._2.jpg", "b/._0.jpg", "b/._1.jpg", "b/._2.jpg"]
    assert skips.as_dict()["by_reason"] == {HIDDEN: 1, APPLEDOUBLE: 12, SYSTEM_FILE: 1}
    assert skips.summary() == f"14 skipped (1 {HIDDEN}, 12 {APPLEDOUBLE}, 1 {SYSTEM_FILE})"
    assert Skips().summary() == ""


@pytest.mark.parametrize("uri,escaped", [
    ("/b/fruits-360 [v2]", r"/b/fruits-360 \[v2\]"),
    ("s3a://b/x*y?/{a,b}", r"s3a://b/x\*y\?/\{a,b\}"),
    ("/b/back\\slash", "/b/back\\\\slash"),
    ("/b/plain name", "/b/plain name"),
])
def test_escape_glob(uri, escaped):
    assert escape_glob(uri) == escaped


@pytest.mark.parametrize("uri,root", [("file:///b/x", "/b/x"), ("file:/b/x", "/b/x"), ("/b/x/", "/b/x"),
                                      ("s3a://b/x", None), ("s3://b/x", None)])
def test_local_root(uri, root):
    assert local_root(uri) == root
