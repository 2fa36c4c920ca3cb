"""``host.Store`` on commercetools Custom Objects: the store a running host gives each provider instance."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from host.commercetools.client import CommercetoolsClient
from host.store import Store, Stored


def container_for(instance_id: str) -> str:
    return "connector-host." + re.sub(r"[^-_~.a-zA-Z0-9]", "_", instance_id)


class CustomObjectStore(Store):
    """The store of a running host: commercetools Custom Objects, one container per instance."""

    def __init__(self, client: CommercetoolsClient, container: str) -> None:
        self._client, self.container = client, container

    @staticmethod
    def _key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    async def get(self, key: str) -> Stored | None:
        found = await self._client.get_custom_object(self.container, self._key(key))
        return None if found is None else Stored(found["value"], int(found["version"]))

    async def put(self, key: str, value: Any, version: int) -> Stored:
        written = await self._client.put_custom_object(self.container, self._key(key), value, version)
        return Stored(written["value"], int(written["version"]))
