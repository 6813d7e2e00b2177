"""Writes the ``0.2-dev-*`` model files and their outputs (``0.2-dev-outputs.npz``).

Run from the repository root with the source tree of commit 05748b0 (the last one
before samplers became objects) on the path, e.g.
``PYTHONPATH=<that tree>/src python tests/data/make_0_2_dev_files.py tests/data``:
the files then hold the hyperparameters of that time (``persistent``,
``n_temperatures``, ``fast_learning_rate``; a Gaussian RBM's ``mean`` tensor),
which today's code must keep loading with the same outputs (``tests/test_io.py``).
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from deepbelief import DBN, BernoulliRBM, DBNClassifier, GaussianBernoulliRBM

out = Path(sys.argv[1])
X, y = load_digits(return_X_y=True)
X, y = X[:300] / 16.0, y[:300]
Xb = (X > 0.5).astype(np.float64)
models = {
    "rbm-pcd": BernoulliRBM(12, persistent=True, centring=0.01, n_iter=2, random_state=0),
    "rbm-pt": BernoulliRBM(12, n_temperatures=3, min_beta=0.6, n_iter=2, random_state=0),
    "rbm-fpcd": BernoulliRBM(12, persistent=True, fast_learning_rate=0.05, n_iter=2,
                             random_state=0),
    "gaussian": GaussianBernoulliRBM(8, n_iter=2, random_state=0),
    "dbn-gaussian": DBN((8, 8), visible_units="gaussian", pretrain_epochs=1,
                        finetune_epochs=1, random_state=0),
    "dbn-classifier-gaussian": DBNClassifier((8,), visible_units="gaussian",
                                             pretrain_epochs=1, finetune_epochs=1,
                                             random_state=0),
}
outputs = {}
for name, model in models.items():
    data = Xb if name.startswith("rbm") else X
    model.fit(data, y) if name.startswith("dbn") else model.fit(data)
    model.save(out / f"0.2-dev-{name}.safetensors")
    outputs[f"{name}-transform"] = model.transform(data[:20])
    if name.startswith("rbm") or name == "gaussian":
        outputs[f"{name}-score"] = model.score_samples(data[:20])
        outputs[f"{name}-sample"] = model.sample(4, steps=5, random_state=1)
    else:
        outputs[f"{name}-proba"] = model.predict_proba(data[:20])
np.savez(out / "0.2-dev-outputs.npz", **outputs)
