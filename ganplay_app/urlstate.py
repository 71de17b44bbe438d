"""A page's settings in its URL, so a lecturer can bookmark each slide and a student opening the link sees it.

Each page declares its settings once, as a list of `Param`s (query key, session-state key, parse, format,
default), and calls two functions:

    PARAMS = [Param("preset", "tr_preset", choice(IMAGE_PRESETS), default="lecture", apply=load_preset),
              Param("lr_g", "tr_lr_g", number(1e-6, 100.0), format=real, default=preset_value("tr_lr_g"))]
    restore("training", PARAMS)     # before the widgets are drawn: the URL's values into st.session_state
    ...widgets keyed by those session-state keys...
    store("training", PARAMS)       # after them: every value that differs from its default into the URL

`restore` applies the URL when a session first opens the page, and again whenever the URL holds values this
session did not write (a link followed inside the app, e.g. Theory → Toy lab). URL values win over defaults.
Coming back to a page (navigation empties the URL, and Streamlit forgets the widgets it stopped drawing), it
re-applies what it last wrote, so the settings survive a visit to another page.
A value that does not parse (`lr_g=abc`), is out of range (`lr_g=1e9`) or names nothing (`preset=foo`) is
ignored: a toast and a caption say which parameter and why, and the next `store` drops it from the URL.

`store` writes only what differs from the default, in readable names (`?preset=lecture&lr_g=0.001&loss=hinge`).
A default may be a function of the session state, e.g. the chosen preset's value, so the URL names a preset
plus the settings changed from it. Values are compared in their URL form, so 2e-4 and 0.0002 are one value.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st


@dataclass(frozen=True)
class Param:
    """One setting kept in the URL: `key` there, `state` in st.session_state.

    `parse(text)` returns the value or raises ValueError with the reason a person should read; `format(value)`
    gives the URL text. `default` is a value or a function of st.session_state; at its default, the setting is
    left out of the URL. `apply(value)`, if given, is called instead of setting the state (a preset loads all
    its values, which the parameters after it then override)."""

    key: str
    state: str
    parse: Callable[[str], Any]
    format: Callable[[Any], str] = str
    default: Any = None
    apply: Callable[[Any], None] | None = None

    def default_for(self, state: Mapping) -> Any:
        return self.default(state) if callable(self.default) else self.default


# -- parsers and formats ----------------------------------------------------------------------------------------
def real(value: Any) -> str:
    """A float in its shortest readable form: 0.0002, 1e-05, 0.999."""
    return f"{float(value):g}"


def whole(value: Any) -> str:
    return str(int(value))


def flag(value: Any) -> str:
    return "1" if value else "0"


def number(lo: float, hi: float, integer: bool = False) -> Callable[[str], float | int]:
    """A finite number in [lo, hi] (a whole one when `integer`)."""
    def parse(text: str) -> float | int:
        try:
            value = float(text)
        except ValueError:
            raise ValueError("not a number") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ValueError(f"must be between {lo:g} and {hi:g}")
        if integer:
            if value != int(value):
                raise ValueError("must be a whole number")
            return int(value)
        return value
    return parse


def choice(options: Iterable, what: str = "value", name: Callable[[Any], str] = str) -> Callable[[str], Any]:
    """One of `options`, named in the URL by name(option) (a mapping: URL name -> value)."""
    table = dict(options) if isinstance(options, Mapping) else {name(o): o for o in options}

    def parse(text: str) -> Any:
        if text not in table:
            raise ValueError(f"unknown {what}; choose from {', '.join(table)}")
        return table[text]
    return parse


def boolean(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be 1 or 0")


def several(options: Iterable[str], what: str = "value", most: int | None = None) -> Callable[[str], list[str]]:
    """A comma-separated list of distinct `options` (empty text: none)."""
    allowed = list(options)

    def parse(text: str) -> list[str]:
        items = [t for t in text.split(",") if t]
        bad = [t for t in items if t not in allowed]
        if bad:
            raise ValueError(f"unknown {what} {', '.join(bad)}; choose from {', '.join(allowed)}")
        if len(set(items)) != len(items):
            raise ValueError(f"a {what} is named twice")
        if most is not None and len(items) > most:
            raise ValueError(f"at most {most}")
        return items
    return parse


def listed(values: Sequence[str]) -> str:
    return ",".join(values)


# -- reading and writing the URL ----------------------------------------------------------------------------
def _seen_key(page: str) -> str:
    return f"_url_seen_{page}"


def _in_url(params: Sequence[Param]) -> dict[str, str]:
    q = st.query_params
    return {p.key: q[p.key] for p in params if p.key in q}


def restore(page: str, params: Sequence[Param]) -> list[str]:
    """Put the URL's values into st.session_state when a link opened this page: the first time a session shows
    it, or when the URL holds values this session did not write (an empty URL: the values this session last
    wrote for the page). Call before the widgets are drawn. Returns the
    problems (one sentence per ignored parameter), also shown as toasts."""
    ss = st.session_state
    seen = ss.get(_seen_key(page))
    current = _in_url(params)
    if seen is not None and current == seen:
        return []
    # An empty URL on a page this session has shown: it navigated away and back, which empties the URL, and
    # Streamlit dropped the state of the widgets it did not draw meanwhile; what it last wrote brings them back.
    wanted = current or seen or {}
    problems = []
    for p in params:
        if p.key not in wanted:
            continue
        text = wanted[p.key]
        try:
            value = p.parse(text)
        except ValueError as err:
            problems.append(f"URL parameter `{p.key}={text[:40]}` ignored: {err}.")
            continue
        if p.apply is not None:
            p.apply(value)
        else:
            ss[p.state] = value
    ss[_seen_key(page)] = current
    ss[f"_url_problems_{page}"] = problems
    for problem in problems:
        st.toast(problem, icon=":material/link_off:", duration="long")
    return problems


def problems_ui(page: str) -> None:
    """A caption for each URL parameter the page's last `restore` ignored (the toasts fade; this stays)."""
    for problem in st.session_state.get(f"_url_problems_{page}", []):
        st.caption(f":material/link_off: {problem}")


def store(page: str, params: Sequence[Param]) -> dict[str, str]:
    """Write each setting that differs from its default into the URL and drop the others. Call after the
    widgets are drawn. Returns what the URL now holds of this page's settings."""
    ss = st.session_state
    q = st.query_params
    wanted = {}
    for p in params:
        if p.state not in ss:
            continue
        text = p.format(ss[p.state])
        if text != p.format(p.default_for(ss)):
            wanted[p.key] = text
    for p in params:
        if p.key in wanted:
            if q.get(p.key) != wanted[p.key]:
                q[p.key] = wanted[p.key]
        elif p.key in q:
            del q[p.key]
    ss[_seen_key(page)] = wanted
    return wanted


def forget(page: str) -> None:
    """Make the next `restore` read the URL again, as if the session had just opened the page."""
    st.session_state.pop(_seen_key(page), None)
