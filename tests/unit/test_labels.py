import pytest

from fruit_pipeline.imaging.labels import IMAGE_GLOB, is_image_name, label_and_split


@pytest.mark.parametrize("path,expected", [
    ("file:/data/bank/Training/Apple Red 1/0_100.jpg", ("Apple Red 1", "Training")),
    ("s3a://b/p/Test/Pêche/x.JPG", ("Pêche", "Test")),
    ("file:/d/TRAINING/Kiwi 1/a.png", ("Kiwi 1", "Training")),
    ("file:/d/test/Kiwi 1/a.jpeg", ("Kiwi 1", "Test")),
    ("file:/d/Validation/Kiwi 1/a.jpg", ("Kiwi 1", "unsplit")),
    ("file:/Kiwi/a.jpg", ("Kiwi", "unsplit")),
])
def test_label_and_split(path, expected):
    assert label_and_split(path) == expected


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
