"""The synthetic sample bank: deterministic, Fruits-360 shaped, ORB-friendly, classes distinct."""

import numpy as np

from fruit_pipeline.config import OrbConfig
from fruit_pipeline.imaging import orb
from fruit_pipeline.imaging.decode import decode
from fruit_pipeline.imaging.synthetic import CLASSES, class_for, render_jpeg
from fruit_pipeline.sample_bank import BankSpec, write_bank


def test_same_seed_same_bytes_different_seed_different_bytes():
    assert render_jpeg(1, 5, seed=3) == render_jpeg(1, 5, seed=3)
    assert render_jpeg(1, 5, seed=3) != render_jpeg(1, 5, seed=4)


def test_images_are_100x100_on_white_with_keypoints():
    detector = orb.make_detector(OrbConfig())
    for c in range(len(CLASSES)):
        img = decode(render_jpeg(c, 0, seed=1), 10**6)
        assert img.shape == (100, 100, 3)
        assert img[0, 0].min() > 220  # white corner
        assert len(orb.detect(detector, img)[1]) >= 5, CLASSES[c].name


def test_classes_differ_in_mean_colour():
    means = [decode(render_jpeg(c, 0, seed=1), 10**6).reshape(-1, 3).mean(0) for c in range(5)]
    distances = [np.linalg.norm(means[i] - means[j]) for i in range(5) for j in range(i + 1, 5)]
    assert min(distances) > 3


def test_bank_layout_and_split(tmp_path):
    n = write_bank(BankSpec(tmp_path, classes=3, per_class=8, test_fraction=0.25, seed=1), workers=2, chunk=3)
    assert n == 24
    train = sorted(tmp_path.glob("Training/*/*.jpg"))
    test = sorted(tmp_path.glob("Test/*/*.jpg"))
    assert len(train) == 18 and len(test) == 6
    assert {p.parent.name for p in test} == {class_for(i).name for i in range(3)}
    assert (tmp_path / "Test" / "Apple Red 1" / "7_100.jpg").exists()


def test_bank_is_deterministic_across_worker_counts(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_bank(BankSpec(a, classes=2, per_class=4, seed=5), workers=1)
    write_bank(BankSpec(b, classes=2, per_class=4, seed=5), workers=2, chunk=1)
    for f in a.rglob("*.jpg"):
        assert f.read_bytes() == (b / f.relative_to(a)).read_bytes()


def test_procedural_classes_beyond_the_named_ones():
    assert class_for(20).name == "Fruit 21"
