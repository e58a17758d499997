import pytest

from fruit_pipeline.config import PipelineConfig, build_config, from_mapping
from fruit_pipeline.errors import UsageError


def test_defaults_then_file_then_overrides(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[reduction]\nvocabulary_size = 99\npca_components = 7\n[spark.conf]\n"spark.x" = 1\n')
    cfg = build_config(str(f), {"reduction": {"pca_components": 5}, "input": "/i"})
    assert cfg.reduction.vocabulary_size == 99
    assert cfg.reduction.pca_components == 5
    assert cfg.spark.conf == {"spark.x": "1"}
    assert cfg.input == "/i" and cfg.extraction.orb.n_features == 500


@pytest.mark.parametrize("data,message", [
    ({"nope": 1}, "unknown key(s) in config: nope"),
    ({"reduction": {"vocabulary_size": "ten"}}, "reduction.vocabulary_size must be an integer"),
    ({"extraction": {"keep_pixels": 1}}, "must be true or false"),
    ({"spark": {"profile": "yarn"}}, "spark.profile must be one of"),
    ({"reduction": {"vocabulary_size": 1}}, "vocabulary_size must be >= 2"),
    ({"increment": {"watch_s": 5}}, '--watch (increment.watch_s) needs --mode append (increment.mode = "append")'),
    ({"increment": {"mode": "append", "watch_s": -1}}, "increment.watch_s must be >= 0"),
])
def test_bad_values_are_usage_errors(data, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_config(None, data)


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(UsageError, match="config file not found"):
        build_config(str(tmp_path / "none.toml"), {})
    bad = tmp_path / "bad.toml"
    bad.write_text("[unclosed\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        build_config(str(bad), {})


def test_int_is_accepted_for_float():
    assert from_mapping(PipelineConfig, {"extraction": {"orb": {"scale_factor": 2}}}).extraction.orb.scale_factor == 2.0
