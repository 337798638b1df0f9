"""Network is blocked for every test: outbound connects are refused except to loopback.

Why: the toolkit must run offline (no model downloads, no telemetry). Loopback stays open
because a local Dask cluster and the Jupyter kernels of the notebook tests talk over
127.0.0.1; Unix sockets stay open too. The same policy as
``--disable-socket --allow-hosts=127.0.0.1,::1,localhost`` on the pytest command line, applied
here so that it holds however pytest is started.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import _remove_restrictions, socket_allow_hosts

LOOPBACK = ["127.0.0.1", "::1", "localhost"]


@pytest.fixture(autouse=True)
def _block_network(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("enable_socket"):
        yield
        return
    socket_allow_hosts(LOOPBACK, allow_unix_socket=True)
    try:
        yield
    finally:
        _remove_restrictions()
