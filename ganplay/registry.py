"""One small registry for every named thing in ganplay: models, losses, presets, datasets, toy data.

    LOSSES = Registry("loss")
    LOSSES.register("hinge", hinge_loss)        # or as a decorator: @LOSSES.register("hinge")
    LOSSES["hinge"]                             # the object
    LOSSES["hnge"]                              # UnknownNameError: unknown loss 'hnge' (did you mean 'hinge'?);
                                                #   choose one of: ...
    list(LOSSES), LOSSES.names("wgan*")         # names in registration order; fnmatch filter (timm's list_models)
    "hinge" in LOSSES, LOSSES.get("hnge")       # True, None: a Mapping like a dict

A registry is a read-only mapping once built (menus and parametrised tests read its names), and every failed
lookup raises the same `UnknownNameError`, whose message names the kind of thing and lists the choices.
Validators that report a bad config with their own error type take the message from `registry.unknown(name)`,
so the choices read the same everywhere.
"""
from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar, overload

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name that no registry entry has; the message lists the choices.

    A KeyError, so `name in registry` and `registry.get(name)` work as for a dict; `str()` is the plain message
    (a bare KeyError would print it quoted).
    """

    def __init__(self, kind: str, name: object, choices: Iterable[str]):
        self.kind, self.name, self.choices = kind, name, tuple(choices)
        close = difflib.get_close_matches(name, self.choices, n=1) if isinstance(name, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(f"unknown {kind} {name!r}{hint}; choose one of: {', '.join(self.choices)}")

    def __str__(self) -> str:
        return self.args[0]


class Registry(Mapping[str, T], Generic[T]):
    """Names -> objects of one kind, in registration order; lookups of unknown names raise UnknownNameError."""

    def __init__(self, kind: str, entries: Mapping[str, T] | Iterable[tuple[str, T]] = ()):
        self.kind = kind
        self._entries: dict[str, T] = {}
        for name, obj in (entries.items() if isinstance(entries, Mapping) else entries):
            self.register(name, obj)

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, obj: T) -> T: ...

    def register(self, name, obj=None):
        """Add `obj` under `name` (a second entry with the same name is a bug, so it raises ValueError).
        Without `obj`, returns a decorator that registers what it decorates."""
        if obj is None:
            return lambda decorated: self.register(name, decorated)
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if name in self._entries:
            raise ValueError(f"a {self.kind} named {name!r} is registered already")
        self._entries[name] = obj
        return obj

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):     # TypeError: an unhashable "name" (a list from JSON, say)
            raise self.unknown(name) from None

    def unknown(self, name: object) -> UnknownNameError:
        """The error a lookup of `name` raises (returned, not raised): for validators that re-raise its message
        as their own error type."""
        return UnknownNameError(self.kind, name, self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._entries
        except TypeError:
            return False

    def names(self, pattern: str | None = None) -> list[str]:
        """The names in registration order, those matching the shell-style `pattern` when given."""
        return [n for n in self._entries if pattern is None or fnmatch.fnmatchcase(n, pattern)]

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"
