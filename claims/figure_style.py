"""The one matplotlib style of the report's figures, applied once per process by conftest.py.

It lives in claims/ so that it is part of the source fingerprint the figure cache keys on: changing
the style re-renders every figure.
"""
from __future__ import annotations

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.framealpha": 0.85,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,   # heatmaps and contour plots would show grid lines over the data
    "image.cmap": "viridis",
    "lines.linewidth": 1.4,
}


def apply() -> None:
    import matplotlib

    matplotlib.rcParams.update(STYLE)
