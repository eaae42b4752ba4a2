"""Loads the dl-claims engine (options, seeds, report) and the model fixtures."""
import matplotlib

from claims import figure_style

matplotlib.use("Agg")  # figures are written to files; no display is needed or assumed
figure_style.apply()   # one style for every figure of the report

pytest_plugins = ["fixtures.plugin"]  # the engine, claimcheck.plugin, is an installed pytest11 entry point
pytest_plugins += ["pytester"]
