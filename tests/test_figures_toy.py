"""ganplay.figures.toy: Vega-Lite (data, spec) pairs whose spec depends only on static settings, valid against the
Vega-Lite schema (through altair, when installed) and accepted by the real st.vega_lite_chart."""
import base64
import copy
import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ganplay.figures import toy as figures
from ganplay.figures.toy import TOY_COLORS, heat_image
from ganplay.toy.view import LineView, PlaneView

R, F, W, H, M, P = 12, 9, 5, 4, 6, 30


def plane(seed=0, output="probability", segments=True) -> PlaneView:
    rng = np.random.default_rng(seed)
    heat = rng.random((H, W)) if output == "probability" else rng.normal(0, 3, (H, W))
    return PlaneView(
        step=seed, real=rng.normal(size=(R, 2)), fake=rng.normal(size=(F, 2)), arrows=rng.normal(0, 0.2, (F, 2)),
        arrows_capped=rng.random(F) < 0.3, heat_x=np.linspace(-2, 2, W), heat_y=np.linspace(-2, 2, H), heat=heat,
        output=output, extent=((-2.5, 2.5), (-2.5, 2.5)),
        segments=rng.normal(size=(M, 4)) if segments else None,
        segment_opacity=rng.random(M) if segments else None)


def line(seed=0, output="probability") -> LineView:
    rng = np.random.default_rng(seed)
    x = np.linspace(-3, 3, P)
    p_data, p_g = np.exp(-(x - 1) ** 2), np.exp(-(x + seed * 0.1) ** 2)
    d_star = p_data / (p_data + p_g) if output == "probability" else None
    d = 1 / (1 + np.exp(-x * (1 + seed))) if output == "probability" else x * (1 + seed)
    return LineView(step=seed, x=x, p_data=p_data, p_g=p_g, p_g_method="kernel density estimate", d_learned=d,
                    d_star=d_star, output=output, fake=rng.normal(size=F), real=rng.normal(size=R), jsd=0.3,
                    extent=(-3.0, 3.0))


HISTORY = {"step": [0, 10, 20, 30, 40], "d_loss": [1.4, float("nan"), 1.2, float("inf"), 1.0],
           "jsd": [0.6, 0.5, 0.4, 0.3, 0.2]}
KEYS = [("d_loss", "D loss", TOY_COLORS["data"]), ("jsd", "JSD", TOY_COLORS["jsd"])]


def long_form(datasets: dict) -> pd.DataFrame:
    """The named datasets as one frame with a `layer` column (what these structural checks read)."""
    frames = [d.assign(layer=name) for name, d in datasets.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"layer": []})


def _long_form_builder(build):
    def wrapped(*args, **kwargs):
        datasets, spec = build(*args, **kwargs)
        return long_form(datasets), spec
    wrapped.raw = build
    return wrapped


# The builders as these tests read them: datasets folded into one long frame with a `layer` column.
plane_chart, line_chart = _long_form_builder(figures.plane_chart), _long_form_builder(figures.line_chart)
discriminator_chart = _long_form_builder(figures.discriminator_chart)
history_chart = _long_form_builder(figures.history_chart)


def all_charts(raw: bool = False):
    """Every kind of chart: (long frame, spec), or with raw=True (datasets, spec) as the page gets them."""
    pick = (lambda build: build.raw) if raw else (lambda build: build)
    return {
        "plane": pick(plane_chart)(plane(), title="recipe A"),
        "plane_critic": pick(plane_chart)(plane(output="critic"), size=300),
        "plane_no_arrows": pick(plane_chart)(plane(segments=False), show=frozenset({"heat", "real", "fake"})),
        "line": pick(line_chart)(line(), title="densities"),
        "discriminator": pick(discriminator_chart)(line()),
        "critic": pick(discriminator_chart)(line(output="critic")),
        "history": pick(history_chart)(HISTORY, KEYS, rules=[(np.log(2), "log 2")], y_title="nats"),
        "history_domain": pick(history_chart)(HISTORY, KEYS, y_domain=(0, 1)),
        "history_empty": pick(history_chart)({"step": []}, KEYS, rules=[(0.5, "½")]),
    }


def layers(df, name):
    return df[df["layer"] == name]


def test_spec_is_static_across_frames():
    for build in (plane_chart, lambda v: plane_chart(v, show=frozenset({"real", "fake"}))):
        (d0, s0), (d1, s1) = build(plane(0)), build(plane(1))
        assert s0 == s1 and not d0.equals(d1)
    for build in (line_chart, discriminator_chart):
        (d0, s0), (d1, s1) = build(line(0)), build(line(1))
        assert s0 == s1 and not d0.equals(d1)
    short = {k: v[:2] for k, v in HISTORY.items()}
    (d0, s0), (d1, s1) = history_chart(short, KEYS), history_chart(HISTORY, KEYS)
    assert s0 == s1 and len(d0) < len(d1)


def test_specs_carry_no_data():
    """Data travels beside the spec: each layer names its dataset, and no values sit in the spec itself."""
    for name, (datasets, spec) in all_charts(raw=True).items():
        assert "data" not in spec and "datasets" not in spec, name
        for layer in spec["layer"]:
            assert set(layer["data"]) == {"name"} and layer["data"]["name"] in datasets, name
        assert "filter" not in json.dumps(spec), name        # no per-row expressions for the browser to run


def test_plane_rows_per_layer():
    df, spec = plane_chart(plane())
    counts = df["layer"].value_counts().to_dict()
    assert counts == {"heat": 1, "heat_scale": 2, "real": R, "fake": F, "manifold": M, "arrows": F}
    assert set(layers(df, "real")["kind"]) == {"real"} and set(layers(df, "fake")["kind"]) == {"fake"}
    fake = layers(df, "fake")
    arrows = layers(df, "arrows")
    np.testing.assert_allclose(arrows[["x", "y"]].to_numpy(), fake[["x", "y"]].to_numpy())
    np.testing.assert_allclose(arrows["x_end"] - arrows["x"], plane().arrows[:, 0])
    heat = layers(df, "heat")
    # one image anchored at the plane's top-left corner, drawn size x size: it fills the plane
    assert (heat["x"].iloc[0], heat["y"].iloc[0]) == (-2.5, 2.5)
    image_mark = spec["layer"][0]["mark"]
    assert image_mark["type"] == "image" and image_mark["width"] == image_mark["height"] == 560
    png = Image.open(io.BytesIO(base64.b64decode(heat["url"].iloc[0].split(",", 1)[1])))
    assert png.size == (W, H)
    assert spec["width"] == spec["height"] == 560
    x = spec["layer"][0]["encoding"]["x"]
    assert x["scale"] == {"domain": [-2.5, 2.5], "nice": False, "zero": False} and x["title"] == "x₁"


def test_heat_colour_scales():
    _, spec = plane_chart(plane())
    scale = spec["layer"][1]["encoding"]["fill"]["scale"]
    assert scale["domain"] == [0.0, 1.0] and scale["domainMid"] == 0.5
    assert spec["layer"][1]["encoding"]["fill"]["title"] == "D(x)"
    df, spec = plane_chart(plane(output="critic"))
    colour = spec["layer"][1]["encoding"]["fill"]
    assert colour["scale"]["domainMid"] == 0 and "domain" not in colour["scale"]
    assert colour["title"] == "critic score"
    m = np.abs(plane(output="critic").heat).max()                     # a symmetric scale around 0
    np.testing.assert_allclose(sorted(layers(df, "heat_scale")["value"]), [-m, m])


def test_heat_image_colours_match_the_legend():
    """The pixel colours are the legend's: purple at 0, near white at 1/2, green at 1; row 0 is the top (high y)."""
    heat = np.array([[0.0, 0.5], [1.0, 1.0]])              # y low row: 0, 0.5; y high row: 1, 1
    url, lo, hi = heat_image(heat, probability=True)
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
    assert (lo, hi) == (0.0, 1.0)
    assert tuple(pixels[1, 0]) == (0x99, 0x70, 0xAB)        # bottom-left: D = 0, purple
    assert tuple(pixels[1, 1]) == (0xF7, 0xF7, 0xF7)        # D = 1/2, the white midpoint
    assert tuple(pixels[0, 0]) == (0x5A, 0xAE, 0x61)        # top row: D = 1, green


def test_show_removes_layers():
    df, spec = plane_chart(plane(), show=frozenset({"heat", "real", "fake", "manifold"}))
    assert "arrows" not in set(df["layer"]) and "'arrows'" not in json.dumps(spec)
    df, spec = plane_chart(plane(), show=frozenset({"fake"}))
    assert set(df["layer"]) == {"fake"} and len(spec["layer"]) == 1
    df, spec = plane_chart(plane(), show=frozenset({"real"}))
    assert "heat" not in set(df["layer"]) and "image" not in json.dumps(spec)
    df, _ = plane_chart(plane(segments=False))
    assert "manifold" not in set(df["layer"])          # no segments: the layer stays in the spec, empty


def test_line_and_discriminator():
    df, spec = line_chart(line())
    assert df["layer"].value_counts().to_dict() == {"p_data": P, "p_g": P, "fake": F}
    assert spec["layer"][1]["mark"]["strokeDash"]                  # p_g from a KDE is dashed
    df, spec = discriminator_chart(line())
    assert set(df["layer"]) == {"d_learned", "d_star", "half"}
    assert spec["layer"][-1]["encoding"]["y"]["scale"]["domain"] == [0.0, 1.0]
    df, spec = discriminator_chart(line(output="critic"), title="WGAN-GP")
    assert set(df["layer"]) == {"d_learned"}
    assert spec["title"] == "WGAN-GP — critic score (no D* for this loss)"
    assert "scale" not in spec["layer"][-1]["encoding"]["y"]
    # the densities and D share the x scale, so stacked charts line up
    assert (line_chart(line())[1]["layer"][0]["encoding"]["x"]
            == discriminator_chart(line())[1]["layer"][-1]["encoding"]["x"])


def test_history_drops_non_finite_and_clips():
    df, spec = history_chart(HISTORY, KEYS, rules=[(0.69, "log 2")])
    raw = layers(df, "raw")
    assert list(raw[raw["series"] == "D loss"]["step"]) == [0, 20, 40]
    assert np.isfinite(df["value"]).all()
    assert layers(df, "rule")["series"].tolist() == ["log 2"]
    mean = layers(df, "mean")
    assert len(mean) == len(raw)
    colour = spec["layer"][0]["encoding"]["color"]["scale"]
    assert colour == {"domain": ["D loss", "JSD"], "range": [TOY_COLORS["data"], TOY_COLORS["jsd"]]}
    spiky = {"step": list(range(200)), "jsd": [1e6] + [0.5 + 0.01 * (i % 7) for i in range(199)]}
    df, _ = history_chart(spiky, KEYS[1:])
    assert layers(df, "raw")["value"].max() < 1.0


def test_history_empty():
    df, spec = history_chart({}, KEYS)
    assert set(df["layer"]) <= {"raw", "mean"} and len(df) == 0
    assert spec == history_chart({"step": [], "d_loss": [], "jsd": []}, KEYS)[1]


def test_specs_valid_vega_lite():
    alt = pytest.importorskip("altair")
    for name, (datasets, spec) in all_charts(raw=True).items():
        values = {k: json.loads(d.to_json(orient="records")) for k, d in datasets.items()}
        alt.LayerChart.from_dict({**copy.deepcopy(spec), "datasets": values}, validate=True)


def test_streamlit_accepts_every_chart():
    from streamlit.testing.v1 import AppTest

    def app():
        import streamlit as st
        from tests.test_figures_toy import all_charts
        from ganplay.figures.toy import with_data
        for name, (datasets, spec) in all_charts(raw=True).items():
            st.vega_lite_chart(None, with_data(datasets, spec), key=name,
                               width="content" if name.startswith("plane") else "stretch")

    at = AppTest.from_function(app).run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    charts = at.get("vega_lite_chart")
    assert len(charts) == len(all_charts())
    for element, (datasets, _) in zip(charts, all_charts(raw=True).values()):
        spec = json.loads(element.proto.spec)
        assert "datasets" not in spec                  # Streamlit moved every dataset out of the spec ...
        assert sorted(d.name for d in element.proto.datasets) == sorted(datasets)   # ... into Arrow, by name
