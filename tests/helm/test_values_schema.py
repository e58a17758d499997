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
}


@pytest.mark.parametrize("case", REJECTED)
def test_bad_values_are_rejected_by_the_schema(helm_bin, case):
    args, message = REJECTED[case]
    result = template(helm_bin, *args)
    assert result.returncode == 1
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr
    assert result.stdout == ""
