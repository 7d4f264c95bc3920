"""Each channel's timeout holds for the whole delivery (README: `smtp_timeout` is for an SMTP
conversation, `webhook_timeout` what a receiver has to answer), even against a peer that
trickles its answer and so never trips a per-read timeout."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.support.trickle import trickle_server
from tokenusage.config import load_settings
from tokenusage.service.alerts.channels import ChannelError, post_webhook, send_email

pytestmark = pytest.mark.anyio


async def test_an_smtp_server_that_trickles_its_greeting_times_out(tmp_path: Path) -> None:
    with trickle_server(b"220-slow") as server:
        settings = load_settings(
            data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=server.port, smtp_timeout=0.5
        )
        started = time.monotonic()
        with pytest.raises(ChannelError, match=r"no complete answer within 0\.5 s"):
            await asyncio.wait_for(send_email(settings, "a@example.com", "s", "t"), 10)
        assert time.monotonic() - started < 3
        assert server.dropped.wait(5), "the worker thread let go of the connection"


async def test_a_webhook_receiver_that_trickles_its_answer_times_out(tmp_path: Path) -> None:
    with trickle_server(b"HTTP/1.1 200 OK\r\nx-pad: ") as server:
        settings = load_settings(data_dir=tmp_path, webhook_timeout=0.5)
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=0.5) as client:
            with pytest.raises(ChannelError, match=r"timed out after 0\.5 s"):
                url = f"http://127.0.0.1:{server.port}/hook"
                await asyncio.wait_for(post_webhook(client, settings, url, {"a": 1}), 10)
        assert time.monotonic() - started < 3
        assert server.dropped.wait(5)
