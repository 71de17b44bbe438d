"""Vega-Lite charts for recipes trained side by side: one metric of every recipe overlaid, a colour per recipe.

    datasets, spec = compare_chart([lane.history for lane in snap.lanes], ["Minimax", "Non-saturating"],
                                   "g_loss", title="G loss")
    st.vega_lite_chart(None, with_data(datasets, spec), key="cmp_g_loss", theme=None)

Built on `ganplay.figures.toy.history_chart` (raw values faint, a running mean bold, spikes clipped), so the
spec depends only on the recipe names, the metric and the size, never on the data: while a run trains, every
refresh gives the same spec and Streamlit updates the chart in place (shared/docs/live-charts.md). Lanes step
together, so their steps line up; a lane that stopped early (it diverged) is padded with NaN, which the chart
drops. No streamlit here.
"""
from __future__ import annotations

import pandas as pd

from ganplay.figures.toy import history_chart, with_data

RECIPE_COLORS = ("#0072B2", "#D55E00", "#009E73", "#7B3294")   # Okabe-Ito, as the Toy lab's lanes
METRIC_TITLES = {"d_loss": ("D loss", "loss"), "g_loss": ("G loss", "loss"),
                 "d_real": ("mean D(x), real", "D"), "d_fake": ("mean D(G(z)), fake", "D")}


def merged_history(histories: list[dict[str, list[float]]], key: str) -> dict[str, list[float]]:
    """One history with a column per recipe ("recipe0", "recipe1", ...) for `key`, on the longest lane's steps;
    shorter lanes padded with NaN."""
    longest = max(histories, key=lambda h: len(h.get("step", [])))
    n = len(longest.get("step", []))
    merged = {"step": list(longest.get("step", []))}
    for i, h in enumerate(histories):
        values = list(h.get(key, []))[:n]
        merged[f"recipe{i}"] = values + [float("nan")] * (n - len(values))
    return merged


def compare_chart(histories: list[dict[str, list[float]]], names: list[str], key: str, *, width: int = 560,
                  height: int = 250, title: str | None = None) -> tuple[dict[str, pd.DataFrame], dict]:
    """`key` (a metric of ganplay.live.METRICS) of every recipe in one chart: (datasets, spec)."""
    if len(names) != len(histories) or len(names) > len(RECIPE_COLORS):
        raise ValueError(f"{len(histories)} histories, {len(names)} names (at most {len(RECIPE_COLORS)})")
    default_title, y_title = METRIC_TITLES.get(key, (key, ""))
    keys = [(f"recipe{i}", name, RECIPE_COLORS[i]) for i, name in enumerate(names)]
    datasets, spec = history_chart(merged_history(histories, key), keys, width=width, height=height,
                                   title=default_title if title is None else title, y_title=y_title)
    spec["config"]["legend"]["direction"] = "vertical"     # one recipe a line: long names stay whole
    return datasets, spec


__all__ = ["RECIPE_COLORS", "compare_chart", "merged_history", "with_data"]
