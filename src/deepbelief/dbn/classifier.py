"""A deep belief net fine-tuned by backpropagation as a classifier.

Pre-training as in Hinton, Osindero & Teh (2006); fine-tuning as in Hinton &
Salakhutdinov (2006) (:mod:`deepbelief.dbn._backprop`): the RBM stack is unrolled
into a feed-forward net of sigmoid layers h_l = σ(W_l h_{l-1} + c_l), a softmax
output layer is added and the whole net minimises the cross-entropy -Σ log p(y|x),
optionally with dropout (Srivastava et al. 2014).
"""

from __future__ import annotations

from typing import ClassVar

from ..io import register
from ._backprop import BackpropClassifier, warm_cosine
from ._unrolled import UnrolledDBN, with_parameters


@register
@with_parameters
class DBNClassifier(UnrolledDBN, BackpropClassifier):
    """Deep belief net classifier: greedy RBM pre-training, then backprop fine-tuning.

    Parameters
    ----------
    %(parameters)s
    Attributes
    ----------
    classes_ : ndarray of the distinct labels.
    rbms_ : list of BernoulliRBM
        The pre-trained stack (before fine-tuning).
    net_ : torch.nn.Sequential
        The fine-tuned net, output logits (see :meth:`to_torch`).
    history_ : dict of lists
        Per fine-tuning epoch ``train_loss``, ``validation_loss`` and
        ``validation_accuracy`` (when held out) and ``seconds``.
    pretrain_history_ : list of dict
        Each layer's RBM ``history_``.
    times_ : dict
        Seconds spent in ``pretrain`` and ``finetune``.
    n_features_in_ : int

    Notes
    -----
    With binary visible units the training data must lie in [0, 1]; a fitted
    net takes any finite inputs (e.g. test rows that a scaler fitted on the
    training rows maps slightly outside [0, 1]) through the same formulas,
    unclipped, as :class:`~deepbelief.BernoulliRBM` does.
    """

    _parameter_constraints: ClassVar[dict] = UnrolledDBN._parameter_constraints

    # ---------------------------------------------------------------- training
    def fit(self, X, y=None, *, classes=None, callback=None,
            resume: bool = False) -> DBNClassifier:
        """Pre-train the RBM stack on ``X``, then fine-tune the unrolled net on (X, y).

        The parameters are those of :meth:`BaseDBN.fit
        <deepbelief.dbn._base.BaseDBN.fit>`: ``X`` an array, a sparse matrix
        (binary visible units) or an iterable of ``(X_batch, y_batch)``; ``y``;
        ``classes`` for a stream; ``callback(self)`` after each fine-tuning epoch
        (True stops); ``resume`` from the checkpoints in ``checkpoint_dir``.
        A stream is trained on whole, with no early-stopping split (``validation_fraction`` is
        ignored); a sparse matrix is made dense one minibatch at a time as it goes through
        the net.

        Notes
        -----
        Under ``torchrun`` (an initialised process group) every rank takes its
        share of each global minibatch of an array, rank 0's order broadcast;
        gradients are averaged by ``DistributedDataParallel`` with the loss
        normalised by the global batch size, so the updates equal one process's.
        A stream is each rank's own (e.g. a ``DataLoader`` with a
        ``DistributedSampler``), with equal batch sizes on all ranks.
        """
        return super().fit(X, y, classes=classes, callback=callback, resume=resume)


__all__ = ["DBNClassifier", "warm_cosine"]
