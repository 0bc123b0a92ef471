"""Frame types of the consult room, by name: their field rules and their handlers.

The built-in frames (docs/signaling.md) are declared in `consults.room.protocol`; other
capabilities add theirs from a `consults/<package>/room_frames.py` module with `@frame(...)`.
"""

import importlib
import importlib.util
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from clinics.audit import Via
from clinics.models import User


@dataclass(frozen=True)
class Field:
    """One field of a frame. `kind` is a Python type or a tuple of types; `bool` is never an int."""

    kind: type | tuple[type, ...]
    required: bool = True
    max_len: int | None = None
    nullable: bool = False
    minimum: float | None = None
    check: Callable[[Any], bool] | None = None


class RoomContext(Protocol):
    """What a frame handler may use (the consumer implements it)."""

    peer: str
    role: str
    consultation_id: str
    via: Via

    @property
    def user(self) -> User | None: ...

    @property
    def guest_id(self) -> str | None: ...

    async def send_frame(self, frame: dict[str, Any]) -> None: ...

    async def broadcast(self, frame: dict[str, Any], *, exclude_self: bool = False) -> None: ...


Handler = Callable[[RoomContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class FrameSpec:
    type: str
    fields: dict[str, Field] = field(default_factory=dict)
    roles: frozenset[str] | None = None  # None: every role in the room
    handler: Handler | None = None  # None: a built-in frame the consumer handles itself


REGISTRY: dict[str, FrameSpec] = {}


def register(spec: FrameSpec) -> FrameSpec:
    if spec.type in REGISTRY:
        raise ValueError(f"room frame type {spec.type!r} is already registered")
    REGISTRY[spec.type] = spec
    return spec


def frame(
    type_: str, *, fields: dict[str, Field] | None = None, roles: set[str] | None = None
) -> Callable[[Handler], Handler]:
    """Register an extension frame handled by the decorated coroutine."""

    def decorate(handler: Handler) -> Handler:
        register(
            FrameSpec(
                type_,
                fields or {},
                frozenset(roles) if roles is not None else None,
                handler,
            )
        )
        return handler

    return decorate


_discovered = False


def autodiscover() -> None:
    """Import every `consults.<package>.room_frames` module once."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    import consults

    for info in pkgutil.iter_modules(consults.__path__):
        if info.ispkg:
            name = f"consults.{info.name}.room_frames"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
