"""A discord.py client that can talk to any Discord-compatible server, chosen per client.

discord.py builds every REST URL from the class attribute `Route.BASE` and opens the gateway at
`DiscordWebSocket.DEFAULT_GATEWAY` (also a class attribute) unless /gateway/bot names another.
Changing those would redirect every client in the process, so instead each request is rebased on
its way out, in the three places discord.py sends from:

- `HTTPClient.request` for REST, and `HTTPClient.ws_connect` for the gateway;
- the webhook adapter, which interaction responses and follow-ups go through. discord.py picks it
  from the context variable `async_context`, so Haven sets its own adapter in the context of the
  client's tasks and around each call that answers an interaction (`webhook_context`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context


class _Rebase:
    def __init__(self, api_base_url: str | None, gateway_url: str | None) -> None:
        self.api = api_base_url.rstrip("/") if api_base_url else None
        self.gateway = gateway_url

    def rest(self, route: Route) -> None:
        if self.api and route.url.startswith(Route.BASE):
            route.url = self.api + route.url[len(Route.BASE) :]

    def ws(self, url: str) -> str:
        # discord.py adds ?v=&encoding=&compress= to the gateway it was given; keep that query.
        default = str(DiscordWebSocket.DEFAULT_GATEWAY).rstrip("/")
        if self.gateway and url.startswith(default):
            return str(yarl.URL(self.gateway).with_query(yarl.URL(url).query))
        return url


class _RebasedHTTPClient(HTTPClient):
    def __init__(self, *args: Any, rebase: _Rebase, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rebase = rebase

    async def request(self, route: Route, **kwargs: Any) -> Any:
        self._rebase.rest(route)
        return await super().request(route, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> Any:
        return await super().ws_connect(self._rebase.ws(url), compress=compress)

    async def get_bot_gateway(self) -> Any:
        shards, url, limits = await super().get_bot_gateway()
        return shards, self._rebase.gateway or url, limits


class _RebasedWebhookAdapter(AsyncWebhookAdapter):
    def __init__(self, rebase: _Rebase) -> None:
        super().__init__()
        self._rebase = rebase

    async def request(self, route: Route, *args: Any, **kwargs: Any) -> Any:
        self._rebase.rest(route)
        return await super().request(route, *args, **kwargs)


class HavenClient(discord.AutoShardedClient):
    """AutoShardedClient always: it asks /gateway/bot for the gateway and shard count, and takes
    `shard_ids` so shards can be split across processes."""

    def __init__(
        self,
        *,
        intents: discord.Intents,
        api_base_url: str | None = None,
        gateway_url: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(intents=intents, **options)
        rebase = _Rebase(api_base_url, gateway_url)
        # Client.__init__ gives no way to pass an HTTPClient; replace it before anything has used it.
        self.http = _RebasedHTTPClient(
            self.loop,
            options.get("connector"),
            max_ratelimit_timeout=options.get("max_ratelimit_timeout"),
            rebase=rebase,
        )
        self._connection.http = self.http
        self._webhook_adapter = _RebasedWebhookAdapter(rebase)

    @contextlib.contextmanager
    def webhook_context(self) -> Iterator[None]:
        """Route interaction responses sent inside this block to the configured server."""
        token = async_context.set(self._webhook_adapter)
        try:
            yield
        finally:
            async_context.reset(token)
