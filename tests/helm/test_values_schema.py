"""values.schema.json refuses wrong types, unknown keys and unsafe settings before anything renders."""

from __future__ import annotations

import pytest

from .conftest import template

REJECTED = {
    "string for executor instances": (["--set-string", "executor.instances=two"],
                                      "at '/executor/instances': got string, want integer"),
    "unknown top-level key": (["--set", "replicas=3"], "additional properties 'replicas' not allowed"),
    "misspelt nested key": (["--set", "driver.memmory=2g"], "additional properties 'memmory' not allowed"),
    "static key in values": (["--set", "s3.credentialsSecret.secretAccessKey=abc"],
                             "additional properties 'secretAccessKey' not allowed"),
    "secret in extraEnv": (["--set", "extraEnv[0].name=AWS_SECRET_ACCESS_KEY", "--set", "extraEnv[0].value=x"],
                           "at '/extraEnv/0/name'"),
    "privilege escalation": (["--set", "securityContext.allowPrivilegeEscalation=true"],
                             "at '/securityContext/allowPrivilegeEscalation'"),
    "root pod": (["--set", "podSecurityContext.runAsNonRoot=false"], "at '/podSecurityContext/runAsNonRoot'"),
    "unknown profile": (["--set", "job.profile=local"], "at '/job/profile'"),
    "unconfined seccomp": (["--set", "podSecurityContext.seccompProfile.type=Unconfined"],
                           "at '/podSecurityContext/seccompProfile/type'"),
}


@pytest.mark.parametrize("case", REJECTED)
def test_bad_values_are_rejected_by_the_schema(helm_bin, case):
    args, message = REJECTED[case]
    result = template(helm_bin, *args)
    assert result.returncode == 1
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def _schema_at(schema: dict, root: dict, path: list[str]) -> dict:
    """The sub-schema describing PATH (follows local $refs and object properties)."""
    node = schema
    for key in path:
        while "$ref" in node:
            node = root["definitions"][node["$ref"].rsplit("/", 1)[1]]
        if key in node.get("properties", {}):
            node = node["properties"][key]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            assert node.get("type") == "object", f"{path} is not described by values.schema.json"
            return node
    while "$ref" in node:
        node = root["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _leaves(values, path=()):
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from _leaves(value, (*path, key))
    else:
        yield list(path)


def test_every_default_value_is_typed_and_documented():
    import json

    import yaml

    from .conftest import CHART

    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    readme = (CHART / "README.md").read_text()
    for path in _leaves(values):
        node = _schema_at(schema, schema, path)
        assert {"type", "enum", "const"} & set(node), f"{'.'.join(path)} has no type in values.schema.json"
        assert f"`{path[0]}" in readme or f"{path[0]}." in readme, f"{path[0]} missing from the chart README"
    assert schema["additionalProperties"] is False
