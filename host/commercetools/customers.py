"""``host.Customers`` on commercetools: the customers and custom-field Types a running host gives providers."""

from __future__ import annotations

import logging
from typing import Any

from host.commercetools.client import CommercetoolsClient, valid_id
from host.commercetools.versioned import retry_on_conflict
from host.customers import Customers, CustomerView, CustomField
from host.errors import InvalidOperationError, ResourceNotFoundError, UpstreamError

logger = logging.getLogger(__name__)


def customer_view(data: dict[str, Any], type_key: str | None = None) -> CustomerView:
    custom = data.get("custom") or {}
    return CustomerView(id=str(data["id"]), version=int(data["version"]), email=data.get("email"),
                        first_name=data.get("firstName"), last_name=data.get("lastName"),
                        fields=dict(custom.get("fields") or {}), type_key=type_key)


class CommercetoolsCustomers(Customers):
    """Customers read and written through the host's commercetools client. Nothing is remembered between calls
    (a field is set once per customer, so the Type is looked up each time rather than cached)."""

    def __init__(self, client: CommercetoolsClient) -> None:
        self._client = client

    async def get(self, customer_id: str) -> CustomerView | None:
        if not valid_id(customer_id):
            return None
        try:
            return customer_view(await self._client.get_customer(customer_id))
        except ResourceNotFoundError:
            return None

    async def set_field(self, customer_id: str, custom: CustomField, value: str) -> CustomerView:
        ours = await self._type(custom)

        async def attempt(n: int) -> CustomerView:
            data = await self._client.get_customer(customer_id)
            current = data.get("custom") or {}
            fields = current.get("fields") or {}
            type_id = (current.get("type") or {}).get("id")
            if type_id is not None and fields.get(custom.name) == value:
                return customer_view(data, custom.type_key if type_id == ours["id"] else None)
            if type_id is None:
                action: dict[str, Any] = {"action": "setCustomType", "type": {"typeId": "type", "id": ours["id"]},
                                          "fields": {custom.name: value}}
            elif type_id == ours["id"] or await self._defines(type_id, custom.name):
                action = {"action": "setCustomField", "name": custom.name, "value": value}
            else:
                raise InvalidOperationError(
                    f"Customer {customer_id} has another custom type without the field {custom.name}; the host "
                    f"does not replace it.")
            written = await self._client.update_customer(customer_id, int(data["version"]), [action])
            return customer_view(written, custom.type_key if type_id in (None, ours["id"]) else None)

        return await retry_on_conflict(attempt, what="customer")

    async def _defines(self, type_id: str, name: str) -> bool:
        found = await self._client.get_type(type_id=type_id)
        return found is not None and any(d.get("name") == name for d in found.get("fieldDefinitions") or [])

    async def _type(self, custom: CustomField) -> dict[str, Any]:
        """The Type ``custom.type_key``, created when missing (a replica that created it first wins)."""
        found = await self._client.get_type(key=custom.type_key)
        if found is None:
            label = {"en": custom.label or custom.name}
            draft = {"key": custom.type_key, "name": label, "resourceTypeIds": ["customer"],
                     "fieldDefinitions": [{"name": custom.name, "label": label, "required": False,
                                           "type": {"name": "String"}, "inputHint": "SingleLine"}]}
            try:
                found = await self._client.create_type(draft)
                logger.info("commercetools Type %s created for customers", custom.type_key)
            except UpstreamError as exc:
                if exc.code != "DuplicateField":
                    raise
                found = await self._client.get_type(key=custom.type_key)
                if found is None:
                    raise
        if not any(d.get("name") == custom.name for d in found.get("fieldDefinitions") or []):
            raise InvalidOperationError(f"The commercetools Type {custom.type_key} has no field {custom.name}.")
        return found
