"""6.1's measurement: how well each CNN layer separates the classes in a 2-D PCA projection."""
from __future__ import annotations

import numpy as np
import torch

LAYERS = {"input": None, "stem": "stem", "block 1": "blocks.0", "block 2": "blocks.1", "pooled": "pool"}
K_NEIGHBOURS = 5


@torch.no_grad()
def layer_features(model: torch.nn.Module, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Flattened outputs of the LAYERS modules (and the input itself), in eval mode, via forward hooks."""
    modules, out = dict(model.named_modules()), {"input": x.flatten(1).cpu().numpy()}
    hooks = [modules[path].register_forward_hook(
        lambda m, i, o, name=name: out.__setitem__(name, o.flatten(1).cpu().numpy()))
             for name, path in LAYERS.items() if path is not None]
    was_training = model.training
    try:
        model.eval()(x)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return {name: out[name] for name in LAYERS}


def separability(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray):
    """(5-NN test accuracy in the 2-D PCA space, silhouette of the test projection, the test projection)."""
    from sklearn.decomposition import PCA  # imported on use: scikit-learn costs ~1.5 s to import
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import KNeighborsClassifier

    pca = PCA(n_components=2).fit(train_x)
    z_train, z_test = pca.transform(train_x), pca.transform(test_x)
    knn = KNeighborsClassifier(K_NEIGHBOURS).fit(z_train, train_y)
    return float(knn.score(z_test, test_y)), float(silhouette_score(z_test, test_y)), z_test
