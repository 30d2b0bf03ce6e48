"""A tiny, Qt-free event system for layer models (after napari's ``EmitterGroup``).

A model owns an :class:`EmitterGroup`; each named :class:`EventEmitter` in it calls its
callbacks with an :class:`Event` that carries the event ``type``, the ``source`` object
and keyword values. Connecting to the group itself receives every event of the group,
which is what a view that repaints on "anything changed" wants::

    layer.events.visible.connect(on_visible)     # one kind of event
    layer.events.connect(on_any)                 # every event of the layer
    with layer.events.visible.blocker():         # write without echo
        layer.visible = False
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

__all__ = ["Event", "EventEmitter", "EmitterGroup"]


@dataclass
class Event:
    """What happened: ``type`` (e.g. ``"visible"``), the ``source`` model and values."""

    type: str
    source: Any = None
    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


Callback = Callable[[Event], Any]


class EventEmitter:
    """Calls connected callbacks, in connection order, on :meth:`emit`.

    Parameters
    ----------
    type
        The event type this emitter sends.
    source
        The object reported as :attr:`Event.source`.
    """

    def __init__(self, type: str, source: Any = None) -> None:
        self.type = type
        self.source = source
        self._callbacks: list[Callback] = []
        self._blocked = 0
        self._parent: EmitterGroup | None = None

    def connect(self, callback: Callback) -> Callback:
        """Call ``callback(event)`` on every emission; returns ``callback`` (usable as a decorator)."""
        if not callable(callback):
            raise TypeError(f"callback {callback!r} is not callable")
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback | None = None) -> None:
        """Forget ``callback`` (all callbacks when None); unknown callbacks are ignored."""
        if callback is None:
            self._callbacks.clear()
        elif callback in self._callbacks:
            self._callbacks.remove(callback)

    @property
    def callbacks(self) -> tuple[Callback, ...]:
        return tuple(self._callbacks)

    @contextmanager
    def blocker(self) -> Iterator[None]:
        """Suppress emissions inside the ``with`` block (used to avoid echo)."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1

    def emit(self, **values: Any) -> Event | None:
        """Send an event with ``values`` to every callback; returns it (None when blocked)."""
        if self._blocked or (self._parent is not None and self._parent._blocked):
            return None
        event = Event(self.type, self.source, dict(values))
        for cb in list(self._callbacks):
            cb(event)
        if self._parent is not None:
            for cb in list(self._parent._callbacks):
                cb(event)
        return event

    def __call__(self, **values: Any) -> Event | None:
        return self.emit(**values)


class EmitterGroup:
    """Named emitters as attributes; connecting to the group receives all their events."""

    def __init__(self, source: Any, *types: str) -> None:
        self._source = source
        self._emitters: dict[str, EventEmitter] = {}
        self._callbacks: list[Callback] = []
        self._blocked = 0
        for t in types:
            self.add(t)

    def add(self, type: str) -> EventEmitter:
        """Add (or return the existing) emitter called ``type``."""
        if type not in self._emitters:
            em = EventEmitter(type, self._source)
            em._parent = self
            self._emitters[type] = em
        return self._emitters[type]

    def __getattr__(self, name: str) -> EventEmitter:
        emitters = self.__dict__.get("_emitters", {})
        if name in emitters:
            return emitters[name]
        raise AttributeError(f"no event {name!r}; events are: {', '.join(emitters)}")

    def __contains__(self, name: str) -> bool:
        return name in self._emitters

    @property
    def types(self) -> list[str]:
        return list(self._emitters)

    def connect(self, callback: Callback) -> Callback:
        """Receive every event of every emitter of the group."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback | None = None) -> None:
        """Disconnect ``callback`` from the group and from every emitter (all when None)."""
        if callback is None:
            self._callbacks.clear()
            for em in self._emitters.values():
                em.disconnect()
            return
        if callback in self._callbacks:
            self._callbacks.remove(callback)
        for em in self._emitters.values():
            em.disconnect(callback)

    @contextmanager
    def blocker(self) -> Iterator[None]:
        """Suppress every emitter of the group inside the ``with`` block."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1
