"""Both schema versions are stored, and the upcasters turn every old event into a valid
current one -- the one a current release would have written."""

from __future__ import annotations

from collections import Counter

from eventscope.demo_data import catalog
from eventscope.domain.demo.events import (
    REGISTRY,
    address_to_v1,
    money_to_v1,
    split_address_line,
    withdrawal_amount_to_decimal_text,
)
from eventscope.domain.demo.money import cents_to_text, text_to_cents
from eventscope.store import EventStore
from hypothesis import given
from hypothesis import strategies as st

EVOLVED = ("MoneyDeposited", "MoneyWithdrawn", "CustomerRegistered")


def test_both_versions_are_stored_and_every_event_decodes_and_validates(
    fixture_source: EventStore,
) -> None:
    versions: Counter[tuple[str, int]] = Counter()
    for event in fixture_source.read_all():
        versions[(event.event_type, event.schema_version)] += 1
        decoded = REGISTRY.decode(event)
        assert decoded.ok, decoded.error
        assert decoded.schema_version == REGISTRY.current_version(event.event_type)
        assert decoded.validation_error() is None, (event.position, decoded.data)
        if event.schema_version == 1 and event.event_type in EVOLVED:
            assert decoded.chain and decoded.data != event.data
    for name in EVOLVED:
        assert versions[(name, 1)] > 0 and versions[(name, 2)] > 0, name


def test_old_events_upcast_to_what_current_code_writes(fixture_source: EventStore) -> None:
    checked = 0
    for event in fixture_source.read_all():
        if event.schema_version != 1 or event.event_type not in EVOLVED:
            continue
        upcast = REGISTRY.decode(event).data
        assert upcast is not None
        if event.event_type == "CustomerRegistered":
            assert address_to_v1(upcast) == event.data
            assert set(upcast["address"]) == {"street", "postcode", "city", "country"}
        else:
            assert money_to_v1(upcast) == event.data
            assert upcast["currency"] == "EUR"
        checked += 1
    assert checked > 20


def test_upcasting_never_changes_the_stored_payload(fixture_source: EventStore) -> None:
    for event in fixture_source.read_all(filter=None):
        if event.schema_version == 1 and event.event_type in EVOLVED:
            before = repr(event.data)
            REGISTRY.decode(event)
            assert repr(event.data) == before


@given(st.integers(min_value=1, max_value=10**11), st.sampled_from(["atm", "card", "online"]))
def test_money_upcast_round_trips(cents: int, channel: str) -> None:
    current = {"amount": cents_to_text(cents), "currency": "EUR", "channel": channel}
    assert withdrawal_amount_to_decimal_text.func(money_to_v1(current)) == current
    assert text_to_cents(current["amount"]) == cents


@given(
    st.sampled_from([name for names in catalog.STREETS.values() for name in names]),
    st.integers(min_value=1, max_value=999),
    st.sampled_from(catalog.CITIES),
    st.text(alphabet="0123456789ABCDEFGH -", min_size=1, max_size=9).map(str.strip).filter(bool),
)
def test_address_upcast_round_trips(street: str, number: int, city: tuple, postcode: str) -> None:
    data = {
        "customer_id": "customer-000001",
        "name": "Zoë O'Neill",
        "email": "zoe@mail.example",
        "address": {
            "street": f"{street} {number}",
            "postcode": postcode,
            "city": city[0],
            "country": city[1],
        },
    }
    assert split_address_line.func(address_to_v1(data)) == data
