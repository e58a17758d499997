"""The fit sample: which Training images the vocabulary and PCA are fitted on, chosen before anything is read."""

from fruit_pipeline.stages.reduction import bank_key_of, fit_sample


def _bank(root: str, splits=("Training", "Test"), labels=("Apple", "Kiwi"), per_label: int = 50) -> list[str]:
    return [f"{root}/{split}/{label}/{i:03d}.jpg" for split in splits for label in labels for i in range(per_label)]


def test_bank_key_is_the_last_three_components():
    assert bank_key_of("s3a://bucket/banks/x/Training/Apple/1.jpg") == "Training/Apple/1.jpg"
    assert bank_key_of("file:/data/Training/Apple/1.jpg") == "Training/Apple/1.jpg"


def test_at_most_limit_training_images_sorted():
    chosen = fit_sample(_bank("file:/b"), 30, seed=42)
    assert len(chosen) == 30 and chosen == sorted(chosen)
    assert all("/Training/" in p for p in chosen)
    assert len(fit_sample(_bank("file:/b"), 1000, seed=42)) == 100  # every Training image when they are fewer


def test_same_choice_wherever_the_bank_is_and_whatever_else_it_holds():
    here = fit_sample(_bank("file:/data/bank"), 30, seed=42)
    there = fit_sample(_bank("s3a://bucket/x", splits=("Training", "Test", "Validation")), 30, seed=42)
    assert [bank_key_of(p) for p in here] == [bank_key_of(p) for p in there]


def test_the_seed_changes_the_choice_and_a_grown_bank_keeps_most_of_it():
    a = fit_sample(_bank("file:/b"), 30, seed=42)
    assert fit_sample(_bank("file:/b"), 30, seed=7) != a
    grown = fit_sample(_bank("file:/b", labels=("Apple", "Kiwi", "Pear")), 30, seed=42)
    assert len(set(a) & set(grown)) >= 15  # a bottom-k sample: old images leave it only for new ones


def test_a_bank_without_training_gives_an_empty_sample():
    assert fit_sample(_bank("file:/b", splits=("Test",)), 30, seed=42) == []
