"""The append's plan: the bank against the tables by (path, size, mtime), and its batches (pure)."""

from fruit_pipeline.stages.increment import Source, batches, classify
from fruit_pipeline.stages.output_guard import is_table_file


def test_new_changed_deleted_unchanged():
    listed = {"a": Source(10, 1000), "b": Source(11, 1000), "c": Source(12, 2000), "e": Source(5, 5)}
    recorded = {"a": Source(10, 1000), "b": Source(99, 1000), "c": Source(12, 1000), "d": Source(1, 1)}
    got = classify(listed, recorded)
    assert (got.new, got.changed, got.deleted, got.unchanged) == (["e"], ["b", "c"], ["d"], 1)
    assert got.to_extract == ["b", "c", "e"]
    assert got.counts() == {"new": 1, "changed": 2, "deleted": 1, "unchanged": 1}


def test_a_path_in_both_tables_is_redone():
    """An append killed between its features and errors commits: the path is extracted again."""
    same = {"a": Source(10, 1000)}
    assert classify(same, same, {"a"}).changed == ["a"]
    assert classify(same, same).unchanged == 1


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
