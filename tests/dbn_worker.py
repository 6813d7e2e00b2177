"""A DBN training run started by the tests in a separate process (killed, or under torchrun).

Usage: python dbn_worker.py OUT.safetensors CHECKPOINT_DIR MODE
MODE is "resume" (fine-tuning epochs long enough to be killed mid-way, resuming
from CHECKPOINT_DIR) or "mean-field" (deterministic pre-training, SGD fine-tuning).
"""

import sys

import numpy as np

from deepbelief import distributed
from deepbelief.datasets import load_digits
from deepbelief.dbn import DBNClassifier


def main() -> None:
    out, ckpt, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    distributed.init_from_env()
    X, y = load_digits()
    if mode == "resume":
        clf = DBNClassifier((64,), pretrain_epochs=1, rbm_params={"batch_size": 50},
                            finetune_epochs=6, dropout=0.2, batch_size=10,
                            learning_rate_schedule="cosine", validation_fraction=0.1,
                            checkpoint_dir=ckpt, random_state=0)
        clf.fit(np.tile(X, (10, 1)), np.tile(y, 10), resume=True)
    else:
        clf = DBNClassifier((32,), pretrain_epochs=2,
                            rbm_params={"mean_field": True, "batch_size": 40},
                            finetune_epochs=3, optimizer="sgd", learning_rate=0.1,
                            dropout=0.0, input_dropout=0.0, batch_size=40,
                            validation_fraction=0.1, random_state=0)
        clf.fit(X[:1200], y[:1200])
    if distributed.is_main_process():
        clf.save(out)
    distributed.finish()


if __name__ == "__main__":
    main()
