"""A training run started by the tests in a separate process (killed, or under torchrun).

Usage: python rbm_worker.py OUT.safetensors CHECKPOINT_DIR MODE
MODE is "resume" (big enough epochs to be killed mid-way), "mean-field" or "sampled".
"""

import sys

import numpy as np

from deepbelief import BernoulliRBM, distributed
from deepbelief.datasets import load_digits


def main() -> None:
    out, ckpt, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    distributed.init_from_env()
    X = load_digits()[0]
    if mode == "resume":
        rbm = BernoulliRBM(256, n_iter=6, batch_size=20, sampler="pcd", random_state=0,
                           checkpoint_dir=ckpt)
        rbm.fit(np.tile(X, (10, 1)), resume=True)
    else:
        rbm = BernoulliRBM(24, n_iter=3, batch_size=40, random_state=0,
                           mean_field=mode == "mean-field", learning_rate=0.05)
        rbm.fit(X[:1200])
    if distributed.is_main_process():
        rbm.save(out)
    distributed.finish()


if __name__ == "__main__":
    main()
