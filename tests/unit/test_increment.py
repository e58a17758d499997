"""The append's plan: the bank against the tables by (path, size, mtime), and its batches (pure)."""

from fruit_pipeline.stages.increment import Changes, batches, compare, plan
from fruit_pipeline.stages.output_guard import is_table_file


def test_the_bank_against_the_tables_by_path_size_and_time():
    stats = [("u1", 10, 100), ("u0", 0, 555), ("new", 7, 70), ("new0", 0, 80), ("size", 12, 100),
             ("time", 10, 101), ("half", 10, 100), ("now0", 0, 90)]
    recorded = {"u1": (10, 100, 1), "u0": (0, None, 1), "size": (11, 100, 1), "time": (10, 100, 1),
                "half": (10, 100, 2), "now0": (9, 90, 1), "gone": (5, 50, 1), "also gone": (0, None, 1)}
    got = compare(stats, recorded)
    assert (got.new, got.changed, got.unchanged) == (["new", "new0"], ["half", "now0", "size", "time"], 2)
    assert got.deleted == ["also gone", "gone"]
    assert got.unscanned == ["new0", "now0"]  # 0-byte files: no scan returns them
    assert got.to_extract == ["half", "new", "new0", "now0", "size", "time"]
    assert got.extract_bytes == 7 + 12 + 10 + 10
    assert got.counts() == {"new": 2, "changed": 4, "deleted": 2, "unchanged": 2} and got.listed == len(stats)


def test_an_empty_table_makes_every_file_new_and_an_empty_bank_every_row_deleted():
    assert compare([("b", 1, 1), ("a", 2, 2)], {}).new == ["a", "b"]
    gone = compare([], {"a": (1, 1, 1)})
    assert gone.deleted == ["a"] and gone.to_extract == [] and gone.listed == 0


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
