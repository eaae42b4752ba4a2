"""Loads the dl-claims engine (options, seeds, report) and the model fixtures."""
import matplotlib

matplotlib.use("Agg")  # figures are written to files; no display is needed or assumed

pytest_plugins = ["fixtures.plugin"]  # the engine, claimcheck.plugin, is an installed pytest11 entry point
pytest_plugins += ["pytester"]
