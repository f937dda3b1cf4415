"""The transfer process manager (saga): moves money between two accounts, each its own
aggregate, with no distributed transaction.

    TransferRequested ─► debit source ─► credit target ─► TransferCompleted
                           │ refused         │ refused
                           ▼                 ▼
                   TransferDeclined    reverse the debit ─► TransferFailed(compensated)

Every event of one transfer shares one correlation id (the transfer id); each event's
causation id is the id of the event that triggered it, so the explorer's correlation
trace draws the chain. A refused step is a *domain fact* on the transfer stream, never a
lost message: the account that refused records nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from eventscope.domain.aggregate import Aggregate
from eventscope.domain.demo.banking import Account, Transfer
from eventscope.domain.errors import CommandRejected
from eventscope.store.records import NewEvent

SAGA_ACTOR = "service:payments-saga"


@dataclass(frozen=True, slots=True)
class SagaWrite:
    """One event the saga wants stored, in order."""

    stream_id: str
    stream_type: str
    event: NewEvent


class TransferSaga:
    """Runs one transfer across loaded aggregates and returns the events to append.

    The aggregates are changed in memory as the events are recorded; the caller appends
    the returned writes (in order) with each aggregate's expected version.
    """

    def __init__(
        self,
        new_id: Callable[[], uuid.UUID] = uuid.uuid4,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._new_id = new_id
        self._clock = clock

    def run(
        self,
        transfer: Transfer,
        source: Account,
        target: Account,
        amount: str,
        currency: str,
        reference: str,
        requested_by: str,
        command_id: str | None = None,
    ) -> list[SagaWrite]:
        correlation = transfer.id
        writes: list[SagaWrite] = []

        def step(
            aggregate: Aggregate, actor: str, causation: str, action: Callable[[], None]
        ) -> str:
            event_id = self._new_id()
            before = len(aggregate.pending)
            action()
            recorded = aggregate.pending[before:]
            # Exactly one event per step: give it the id we chose for the causation chain.
            new_events = aggregate.pending_events(
                actor=actor, correlation_id=correlation, causation_id=causation
            )[before:]
            for item, new in zip(recorded, new_events, strict=True):
                writes.append(
                    SagaWrite(
                        aggregate.id,
                        aggregate.stream_type,
                        NewEvent(
                            event_type=new.event_type,
                            data=new.data,
                            metadata=new.metadata,
                            event_id=event_id,
                            schema_version=new.schema_version,
                            occurred_at=self._clock() if self._clock else item.occurred_at,
                        ),
                    )
                )
            return str(event_id)

        requested = step(
            transfer,
            requested_by,
            command_id or f"cmd-{correlation}",
            lambda: transfer.request(source.id, target.id, amount, currency, reference),
        )
        try:
            debited = step(
                source,
                SAGA_ACTOR,
                requested,
                lambda: source.debit_for_transfer(transfer.id, amount, currency, target.id),
            )
        except CommandRejected as refusal:
            declined = refusal.reason
            step(transfer, SAGA_ACTOR, requested, lambda: transfer.decline(declined))
            return writes
        try:
            credited = step(
                target,
                SAGA_ACTOR,
                debited,
                lambda: target.credit_for_transfer(transfer.id, amount, currency, source.id),
            )
        except CommandRejected as refusal:
            reason = refusal.reason
            reversed_id = step(
                source,
                SAGA_ACTOR,
                debited,
                lambda: source.reverse_transfer_debit(transfer.id, amount, currency, reason),
            )
            step(
                transfer,
                SAGA_ACTOR,
                reversed_id,
                lambda: transfer.fail(reason, compensated=True),
            )
            return writes
        step(transfer, SAGA_ACTOR, credited, transfer.complete)
        return writes
