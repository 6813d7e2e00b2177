"""A DBM training run started by the tests in its own process (alone or under torchrun).

Usage: python dbm_worker.py OUT.safetensors
"""

import sys

from deepbelief import DBM, distributed
from deepbelief.datasets import load_digits


def main() -> None:
    distributed.init_from_env()
    X = load_digits()[0][:1200]
    dbm = DBM((24, 12), pretrain_epochs=3, n_iter=4, batch_size=40, learning_rate=0.01,
              random_state=0)
    dbm.fit(X)
    if distributed.is_main_process():
        dbm.save(sys.argv[1])
    distributed.finish()


if __name__ == "__main__":
    main()
