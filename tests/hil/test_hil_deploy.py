"""Deploy the app to the board (`hushmic.deploy`), check it by hash and hello, and that a second deploy is a no-op.

On a real board this rewrites its app files (the same files, so it is safe to repeat)."""
import importlib.util

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("hushmic.deploy") is None,
                                reason="hushmic.deploy does not exist yet (host_tools/deploy.py is being written)")


def test_deploy_is_verified_and_idempotent(board):
    from hushmic import deploy

    first = deploy.deploy(board.port)
    assert first.verified, first.as_dict()
    assert first.hello and first.hello.get("firmware"), "the app did not answer after the deploy"
    again = deploy.deploy(board.port)
    assert again.verified and again.copied == 0, again.as_dict()
    conn = board.connect()  # the app is running and speaks the protocol
    assert conn.hello["firmware"] == first.hello["firmware"]
