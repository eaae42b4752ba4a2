"""Project-wide test setup: the figure style. The engine (claimcheck) loads through its pytest11 entry point,
the deep-learning layer (fixtures.plugin) through pytest.ini's addopts."""
import matplotlib

from claims import figure_style

matplotlib.use("Agg")  # figures are written to files; no display is needed or assumed
figure_style.apply()   # one style for every figure of the report

pytest_plugins = ["pytester"]
