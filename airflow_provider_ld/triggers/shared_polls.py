"""
Shared polls: the destination triggers of one event loop that use one connection share their requests.

One ``GET /api/v2/destinations`` lists every destination of the account, so one request answers every trigger
waiting on the same connection. A :class:`DestinationPoller` exists per event loop and connection id (held
like the async hook's shared client: a ``WeakKeyDictionary`` keyed by the loop). Triggers subscribe to it; it
takes one *round* at a time and hands each subscriber the part of the answer it waits for; the subscriber
decides (with :mod:`airflow_provider_ld.readiness`) whether it is done.

- Rounds follow the shortest ``poll_interval`` among the subscribers, and also come at a subscriber's
  deadline (its last check). A round is one request: the inventory, or ``GET`` by id when every subscriber
  waits on the same single destination id (the same one request, a smaller and authoritative answer).
- A subscriber by id whose destination is absent from the inventory at its deadline confirms with one
  ``GET`` by id before it times out.
- Concurrent requests for the same answer are coalesced: one in flight, every caller gets its result.
- Errors fan out: a final error (refused token, missing connection) ends every subscriber with the same
  message; a transient one (rate limit, server, connection) is "not yet" for all. There is one backoff for
  all: the hook's retry waits (``Retry-After`` honoured) happen inside the one request every subscriber
  waits on, and the next round comes one shortest interval after that request ended.
- Nothing survives the process: a trigger that runs again (restart, HA) subscribes again. When the last
  subscriber leaves (done or cancelled) the poller stops and lets go of its HTTP client, which closes its
  connections when no other hook of the loop uses it.

Airflow has no sharing mechanism for task triggers: its shared streams (``BaseEventTrigger``,
``shared_stream_key``, Airflow 3.3) serve asset-watcher triggers only.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ld.destination_ref import DestinationRef
from airflow_provider_ld.hooks.launchdarkly_async import LaunchDarklyAsyncHook
from airflow_provider_ld.models import Destination

log = logging.getLogger(__name__)

#: What a subscriber is handed: its destination (or ``None``) when waiting by id, else the destinations of
#: its environment with its name and kind.
Found = Destination | None | list[Destination]
#: A subscriber's verdict: its final event payload, or why it is not done yet.
Outcome = dict[str, Any] | str


class Inventory:
    """
    Every destination of the account at one moment, indexed for the lookups subscribers make.

    :param items: the destinations the listing returned.
    :param taken_at: when the request was sent (the poller's clock).
    """

    def __init__(self, items: list[Destination], taken_at: float) -> None:
        self.items = items
        self.taken_at = taken_at
        self._by_id: dict[tuple[str | None, str | None, str], Destination] = {}
        self._by_name: dict[tuple[str | None, str | None, str | None, str], list[Destination]] = {}
        for item in items:
            project, environment = item.project_key, item.environment_key
            self._by_id[(project, environment, item.id)] = item
            self._by_name.setdefault((project, environment, item.name, item.kind), []).append(item)

    def get(self, project_key: str, environment_key: str, destination_id: str) -> Destination | None:
        """Return the destination with this id in this environment, or ``None``."""
        return self._by_id.get((project_key, environment_key, destination_id))

    def find(self, project_key: str, environment_key: str, name: str, kind: str) -> list[Destination]:
        """Return the destinations of this environment with exactly this name and kind."""
        return list(self._by_name.get((project_key, environment_key, name, kind), ()))


@dataclass(eq=False)
class Subscription:
    """
    One waiting trigger, as the poller sees it.

    :param project_key: the project key.
    :param environment_key: the environment key.
    :param destination_id: the awaited id, or ``None`` when waiting by name and kind.
    :param name: the awaited name (with ``kind``).
    :param kind: the awaited kind (with ``name``).
    :param poll_interval: the longest the subscriber may go without a check.
    :param end_time: its deadline, on the poller's clock.
    :param decide: the verdict from what check number ``n`` found (run in the subscriber's context).
    :param fail: the verdict from an error in check number ``n`` (a reason string means "not yet").
    :param time_out: the timeout payload from the number of checks and the last reason.
    """

    project_key: str
    environment_key: str
    destination_id: str | None
    name: str | None
    kind: str | None
    poll_interval: float
    end_time: float
    decide: Callable[[Found, int], Outcome]
    fail: Callable[[BaseException, int], Outcome]
    time_out: Callable[[int, str], dict[str, Any]]
    checks: int = 0
    last_reason: str = "not checked yet"
    result: asyncio.Future[dict[str, Any]] = field(init=False)
    #: The subscriber's context: its verdicts run in it, so what they log reaches the trigger's own log (the
    #: triggerer tells trigger logs apart by context variables).
    context: contextvars.Context = field(init=False)

    def __post_init__(self) -> None:
        self.result = asyncio.get_running_loop().create_future()
        self.context = contextvars.copy_context()

    def judge(self, found: Found) -> Outcome:
        """Return the verdict on what check number ``checks`` found, decided in the subscriber's context."""
        return self.context.run(self.decide, found, self.checks)

    def judge_error(self, err: BaseException, number: int) -> Outcome:
        """Return the verdict on an error in check ``number``, decided in the subscriber's context."""
        return self.context.run(self.fail, err, number)

    def timeout_payload(self) -> dict[str, Any]:
        """Return the timeout event after ``checks`` checks, built in the subscriber's context."""
        return self.context.run(self.time_out, self.checks, self.last_reason)

    @property
    def id_key(self) -> tuple[str, str, str] | None:
        """``(project, environment, id)`` when waiting by id."""
        if self.destination_id:
            return (self.project_key, self.environment_key, self.destination_id)
        return None

    def find_in(self, inventory: Inventory) -> Found:
        """Return what this subscriber waits for, as the inventory shows it."""
        if self.destination_id:
            return inventory.get(self.project_key, self.environment_key, self.destination_id)
        return inventory.find(self.project_key, self.environment_key, str(self.name), str(self.kind))


#: Subscribers handed their verdict between two yields to the event loop (each may log a line).
YIELD_EVERY = 50

#: Pollers by event loop (held weakly: a loop that is gone drops its pollers) and connection id.
_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, DestinationPoller]] = (
    weakref.WeakKeyDictionary()
)


def poller_for(
    conn_id: str,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    hook: Callable[[], LaunchDarklyAsyncHook] | None = None,
) -> DestinationPoller:
    """
    Return the running loop's poller for this connection, creating it if there is none.

    The other arguments are used only when the poller is created (the first subscriber's).

    :param conn_id: the Airflow connection id.
    :param clock: epoch time.
    :param sleep: the wait between rounds and retries.
    :param hook: builds the async hook the poller sends with; one for ``conn_id`` by default.
    """
    pollers = _POLLERS.setdefault(asyncio.get_running_loop(), {})
    poller = pollers.get(conn_id)
    if poller is None or poller.closing:
        poller = pollers[conn_id] = DestinationPoller(conn_id, clock=clock, sleep=sleep, hook=hook)
    return poller


class DestinationPoller:
    """
    Take the destinations inventory for every subscriber of one connection in one event loop.

    :param conn_id: the Airflow connection id.
    :param clock: epoch time (injectable for tests).
    :param sleep: the wait between rounds, also used by the hook between retries (injectable for tests).
    :param hook: builds the async hook to send with; one for ``conn_id`` waiting with ``sleep`` by default.
    """

    def __init__(
        self,
        conn_id: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        hook: Callable[[], LaunchDarklyAsyncHook] | None = None,
    ) -> None:
        self.conn_id = conn_id
        self.closing = False
        self.rounds = 0
        self._clock = clock
        self._sleep = sleep
        self._hook = hook() if hook is not None else LaunchDarklyAsyncHook(conn_id, sleep=sleep)
        self._subscribers: dict[Subscription, None] = {}
        self._in_flight: dict[Any, asyncio.Task[Any]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_round = 0.0
        self._last_round = 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(conn_id={self.conn_id!r}, subscribers={len(self._subscribers)})"

    @property
    def subscribers(self) -> int:
        """How many triggers wait on this poller."""
        return len(self._subscribers)

    # Subscribing

    def subscribe(self, subscription: Subscription) -> None:
        """Serve this subscriber from the next round on; start polling if it is the first."""
        self._subscribers[subscription] = None
        if self._task is None:
            # A fresh context: the poller belongs to no single trigger, so its own logs name none.
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"launchdarkly-poller-{self.conn_id}", context=contextvars.Context()
            )
        else:
            self._wake.set()  # its interval or deadline may be shorter than what the poller sleeps for

    async def unsubscribe(self, subscription: Subscription) -> None:
        """Stop serving this subscriber; the last one to leave stops the poller and waits until it closed."""
        self._subscribers.pop(subscription, None)
        if self._subscribers or self._task is None:
            return
        self._leave_registry()
        task = self._task
        if task is asyncio.current_task():
            return
        if not self.closing:  # sleeping or mid-request: stop it; otherwise it is already closing itself
            self.closing = True
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    # Coalesced requests

    async def inventory(self) -> Inventory:
        """Return a fresh inventory; callers that ask while one is in flight share it."""
        return await self._coalesced("inventory", self._take_inventory)

    async def destination(
        self, project_key: str, environment_key: str, destination_id: str
    ) -> Destination | None:
        """Return one destination by id (``None`` when absent); concurrent asks for the same id share a request."""
        key = ("id", project_key, environment_key, destination_id)
        return await self._coalesced(
            key, lambda: self._get_by_id(project_key, environment_key, destination_id)
        )

    async def _coalesced(self, key: Any, start: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        task = self._in_flight.get(key)
        if task is None:
            task = self._in_flight[key] = asyncio.get_running_loop().create_task(start())
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    def _forget(self, key: Any, task: asyncio.Task[Any]) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter got it, or nobody is left to

    async def _take_inventory(self) -> Inventory:
        taken_at = self._clock()
        return Inventory(await self._hook.list_destinations(), taken_at)

    async def _get_by_id(
        self, project_key: str, environment_key: str, destination_id: str
    ) -> Destination | None:
        return await self._hook.find_destination(DestinationRef(project_key, environment_key, destination_id))

    # The loop

    async def _run(self) -> None:
        try:
            while self._subscribers:
                now = self._clock()
                if now >= self._next_round:
                    await self._round(now)
                elif any(sub.end_time <= now for sub in self._subscribers):
                    await self._round(now)  # a subscriber's last check, at its deadline
                if self._subscribers:
                    await self._pause()
            self.closing = True
        except asyncio.CancelledError:
            raise
        except Exception as err:  # a bug must end every waiter with an error, not leave them hanging
            log.exception("LaunchDarkly poller for connection %s failed", self.conn_id)
            for sub in list(self._subscribers):
                outcome = sub.judge_error(err, sub.checks + 1)
                if isinstance(outcome, str):
                    sub.last_reason = outcome
                    outcome = sub.timeout_payload()
                self._resolve(sub, outcome)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Stop: cancel requests in flight, let go of the HTTP client, leave the loop's registry."""
        self.closing = True
        self._leave_registry()
        for task in list(self._in_flight.values()):
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        await self._hook.aclose()

    def _leave_registry(self) -> None:
        pollers = _POLLERS.get(asyncio.get_running_loop(), {})
        if pollers.get(self.conn_id) is self:
            del pollers[self.conn_id]

    async def _pause(self) -> None:
        """Sleep until the next round or the earliest deadline; a new subscriber wakes the poller early."""
        interval = min(sub.poll_interval for sub in self._subscribers)
        self._next_round = min(self._next_round, self._last_round + interval)
        wake_at = min(self._next_round, min(sub.end_time for sub in self._subscribers))
        delay = wake_at - self._clock()
        if delay <= 0:
            return
        self._wake.clear()
        sleeper = asyncio.ensure_future(self._sleep(delay))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (sleeper, woken):
                waiting.cancel()
            await asyncio.gather(sleeper, woken, return_exceptions=True)

    async def _round(self, now: float) -> None:
        """Send one request and hand every subscriber its verdict."""
        subscribers = list(self._subscribers)
        self.rounds += 1
        ids = {sub.id_key for sub in subscribers}
        by_inventory: Inventory | None = None
        single: Found = None
        try:
            if len(ids) == 1 and None not in ids:
                single = await self.destination(*ids.pop())  # type: ignore[misc]
            else:
                by_inventory = await self.inventory()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - any failure of the shared request is every subscriber's
            self._schedule_after_round(subscribers)
            self._fan_out(subscribers, err, now)
            return
        self._schedule_after_round(subscribers)
        confirm = []
        for number, sub in enumerate(subscribers, 1):
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the loop breathe between batches of verdicts
            if sub not in self._subscribers:
                continue  # left while the request was in flight, or while verdicts were handed out
            sub.checks += 1
            found = single if by_inventory is None else sub.find_in(by_inventory)
            if by_inventory is not None and found is None and sub.id_key and sub.end_time <= now:
                confirm.append(sub)  # absent from the inventory at its deadline: ask by id before giving up
                continue
            self._settle(sub, found, now)
        if confirm:
            await asyncio.gather(*(self._confirm(sub, now) for sub in confirm))

    def _schedule_after_round(self, subscribers: list[Subscription]) -> None:
        """The next round comes one shortest interval after this one ended (retry waits included)."""
        self._last_round = self._clock()
        self._next_round = self._last_round + min(sub.poll_interval for sub in subscribers)

    async def _confirm(self, sub: Subscription, now: float) -> None:
        try:
            found = await self.destination(*sub.id_key)  # type: ignore[misc]
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - handed to the subscriber, which classifies it
            self._fan_out([sub], err, now)
            return
        if sub in self._subscribers:
            self._settle(sub, found, now)

    def _settle(self, sub: Subscription, found: Found, now: float) -> None:
        try:
            outcome = sub.judge(found)
        except Exception as err:  # noqa: BLE001 - e.g. an ambiguous name: that subscriber's error event
            outcome = sub.judge_error(err, sub.checks)
        self._apply(sub, outcome, now)

    def _fan_out(self, subscribers: list[Subscription], err: BaseException, now: float) -> None:
        """Hand one error to every subscriber: final errors end them all, transient ones are "not yet"."""
        transient = False
        for sub in subscribers:  # no await here: the error reaches every subscriber in one step
            if sub not in self._subscribers:
                continue
            sub.checks += 1
            outcome = sub.judge_error(err, sub.checks)
            transient = transient or isinstance(outcome, str)
            self._apply(sub, outcome, now)
        if transient:
            log.warning(
                "LaunchDarkly connection %s: the shared check failed for %d waiting triggers; next check in "
                "%.0f s: %s",
                self.conn_id,
                len(subscribers),
                max(self._next_round - now, 0),
                err,
            )

    def _apply(self, sub: Subscription, outcome: Outcome, now: float) -> None:
        if isinstance(outcome, dict):
            self._resolve(sub, outcome)
            return
        sub.last_reason = outcome
        if sub.end_time <= now:
            self._resolve(sub, sub.timeout_payload())

    def _resolve(self, sub: Subscription, payload: dict[str, Any]) -> None:
        self._subscribers.pop(sub, None)
        if not sub.result.done():
            sub.result.set_result(payload)


__all__ = ["DestinationPoller", "Found", "Inventory", "Outcome", "Subscription", "poller_for"]
