from __future__ import annotations

import json

from airflow_provider_ld.models import (
    CallerIdentity,
    Destination,
    DestinationList,
    IntegrationDeliveryConfiguration,
    WarehouseSetupScript,
)

DESTINATION = {
    "_id": "d-1",
    "_links": {"self": {"href": "/api/v2/destinations/proj/prod/d-1", "type": "application/json"}},
    "name": "Segment export",
    "kind": "segment",
    "version": 3,
    "config": {"writeKey": "seg-SECRET-wk", "nested": {"apiToken": "tok-SECRET"}},
    "on": True,
    "createdAt": 1_700_000_000_000,
    "somethingNew": [1, 2],
}


def test_destination_reads_tolerantly_and_knows_its_project_and_environment():
    destination = Destination.model_validate(DESTINATION)
    assert (destination.project_key, destination.environment_key) == ("proj", "prod")
    assert destination.model_extra == {"somethingNew": [1, 2]}
    assert Destination.model_validate({"_id": "x"}).project_key is None


def test_destination_secrets_hidden_in_repr_and_to_dict():
    destination = Destination.model_validate(DESTINATION)
    text = repr(destination) + str(destination) + json.dumps(destination.to_dict())
    assert "seg-SECRET-wk" not in text
    assert "tok-SECRET" not in text
    assert destination.to_dict()["config"] == {"writeKey": "**********", "nested": {"apiToken": "**********"}}


def test_destination_to_dict_is_wire_spelling_and_json_serialisable():
    data = Destination.model_validate(DESTINATION).to_dict()
    assert data["_id"] == "d-1"
    assert data["createdAt"] == 1_700_000_000_000
    json.dumps(data)


def test_destination_list_and_other_shapes():
    listing = DestinationList.model_validate({"_links": {}, "items": [DESTINATION]})
    assert listing.items[0].id == "d-1"
    script = WarehouseSetupScript.model_validate(
        {"script": "CREATE USER", "publicKey": "pk", "publicKeyPkcs8": "p8"}
    )
    assert (script.public_key, script.public_key_pkcs8) == ("pk", "p8")
    identity = CallerIdentity.model_validate({"accountId": "acc", "tokenName": "ci", "tokenKind": "service"})
    assert identity.describe() == "account acc; token ci (service)"


def test_delivery_configuration_hides_secrets():
    item = IntegrationDeliveryConfiguration.model_validate(
        {
            "_id": "c1",
            "integrationKey": "fastly",
            "config": {"storeId": "s", "apiToken": "fastly-SECRET"},
            "version": 1,
        }
    )
    assert "fastly-SECRET" not in repr(item)
    assert item.to_dict()["config"]["apiToken"] == "**********"
