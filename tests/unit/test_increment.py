"""The append's plan: the bank against the tables by (path, size, mtime), and its batches (pure)."""

from fruit_pipeline.stages.increment import Changes, batches, from_groups, plan
from fruit_pipeline.stages.output_guard import is_table_file


def test_changes_from_the_comparison_groups():
    got = from_groups([("unchanged", 7, [], [], 70), ("new", 2, ["e", "a"], ["e"], 15),
                       ("changed", 1, ["b"], [], 11), ("deleted", 1, ["d"], [], 0)])
    assert (got.new, got.changed, got.deleted, got.unchanged) == (["a", "e"], ["b"], ["d"], 7)
    assert got.to_extract == ["a", "b", "e"] and got.unscanned == ["e"] and got.extract_bytes == 26
    assert got.counts() == {"new": 2, "changed": 1, "deleted": 1, "unchanged": 7} and got.listed == 10


def test_plan_merges_changed_paths_first_then_inserts_new_ones():
    changes = Changes(new=["a", "c", "d"], changed=["b", "e", "f"], deleted=["z"], unchanged=4)
    assert plan(changes, 2) == [(["b", "e"], True), (["f"], True), (["a", "c"], False), (["d"], False)]
    assert plan(Changes(unchanged=3), 2) == []


def test_batches_cover_every_path_once_in_order():
    assert batches(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert batches([], 3) == []


def test_only_what_delta_writes_in_a_table_is_ours():
    assert is_table_file("features/_delta_log/00000000000000000003.json")
    assert is_table_file("features/split=Test/part-00001-1c2d.c000.zstd.parquet")
    assert is_table_file("errors/.part-00000-ab.c000.zstd.parquet.crc")
    assert not is_table_file("features/README-mine.txt")
    assert not is_table_file("models/part-00000.parquet")
    assert not is_table_file("features/split=Test/notes/part-1.parquet")
