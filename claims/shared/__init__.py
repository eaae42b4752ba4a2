"""Code that more than one claim module uses: the recipes of the model families in claims/families.py (deep_mlp,
residual_cnn, resolution's CNNs, twins) and helpers (representations, resolution, feature_space, model_state,
variants, block_net). A claim imports these, never another claim's module (tests/test_layering.py)."""
