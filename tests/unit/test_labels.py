"""Labels and splits from paths, byte for byte (pure, no Spark)."""

import unicodedata

import pytest

from fruit_pipeline.imaging.labels import IMAGE_GLOB, is_image_name, label_and_split, label_twins, split_of

NFC_PECHE = unicodedata.normalize("NFC", "Pêche 1")
NFD_PECHE = unicodedata.normalize("NFD", "Pêche 1")


@pytest.mark.parametrize("path,expected", [
    ("file:/data/bank/Training/Apple Red 1/0_100.jpg", ("Apple Red 1", "Training")),
    ("s3a://b/p/Test/Pêche/x.JPG", ("Pêche", "Test")),
    ("file:/d/TRAINING/Kiwi 1/a.png", ("Kiwi 1", "Training")),
    ("file:/d/test/Kiwi 1/a.jpeg", ("Kiwi 1", "Test")),
    ("file:/Kiwi/a.jpg", ("Kiwi", "unsplit")),
    ("file:/d/Other/Kiwi 1/d.jpg", ("Kiwi 1", "unsplit")),
])
def test_label_and_split(path, expected):
    assert label_and_split(path) == expected


@pytest.mark.parametrize("folder", ["Apple%20Red", "100%", "a%2Fb", "%E2%82%AC", "Kiwi%"])
def test_percent_sequences_are_kept_as_written(folder):
    for scheme in ("file:/bank/Training", "s3a://bucket/bank/Training"):
        assert label_and_split(f"{scheme}/{folder}/x.jpg") == (folder, "Training")


@pytest.mark.parametrize("folder", [" Apple", "Apple ", "APPLE", "Äpfel 2", "tomato (ripe) [v2] {x} #1 ?*"])
def test_label_is_the_folder_name_exactly(folder):
    assert label_and_split(f"file:/b/Test/{folder}/x.jpg")[0] == folder


def test_nfd_and_nfc_names_are_one_label():
    assert NFC_PECHE != NFD_PECHE
    nfd = label_and_split(f"file:/b/Training/{NFD_PECHE}/x.jpg")[0]
    nfc = label_and_split(f"s3a://b/Test/{NFC_PECHE}/x.jpg")[0]
    assert nfd == nfc and nfd.encode() == NFC_PECHE.encode() == b"P\xc3\xaache 1"


@pytest.mark.parametrize("folder,split", [
    ("Training", "Training"), ("training", "Training"), ("TRAIN", "Training"), ("train", "Training"),
    ("Test", "Test"), ("test", "Test"), ("Testing", "Test"), ("TESTING", "Test"),
    ("Validation", "Validation"), ("val", "Validation"), ("VAL", "Validation"), ("valid", "Validation"),
    ("validation", "Validation"),
    ("trains", "unsplit"), ("tests", "unsplit"), ("validate", "unsplit"), ("Other", "unsplit"), ("", "unsplit"),
])
def test_split_aliases(folder, split):
    assert split_of(folder) == split
    assert label_and_split(f"file:/b/{folder}/Kiwi/x.jpg") == ("Kiwi", split)


def test_label_twins_are_grouped_by_case_and_surrounding_whitespace():
    labels = ["Apple", "apple", "Apple ", "Banana", "Kiwi 1", "kiwi 1", "Kiwi 2", NFC_PECHE]
    assert label_twins(labels) == [["Apple", "Apple ", "apple"], ["Kiwi 1", "kiwi 1"]]
    assert label_twins(["Apple", "Banana"]) == []


@pytest.mark.parametrize("name,ok", [("a.jpg", True), ("a.JPEG", True), ("a.Png", True), ("a.gif", False),
                                     ("a.jpg.txt", False)])
def test_image_names(name, ok):
    assert is_image_name(name) is ok


def test_glob_matches_the_same_names_as_the_regex():
    from fnmatch import fnmatchcase
    # Expand the Hadoop {a,b} alternation by hand; character classes work the same in fnmatch.
    alternatives = IMAGE_GLOB[3:-1].split(",")
    for name in ["x.jpg", "x.JPG", "x.jPeG", "x.png", "x.PNG", "x.gif", "x.jpgx"]:
        assert any(fnmatchcase(name, "*." + alt) for alt in alternatives) == is_image_name(name)
