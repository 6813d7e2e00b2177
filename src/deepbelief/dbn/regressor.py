"""A deep belief net fine-tuned by backpropagation as a regressor.

The RBM stack is pre-trained as for :class:`~deepbelief.DBNClassifier` (Hinton,
Osindero & Teh 2006) and unrolled into a net of sigmoid layers h_l = σ(W_l h_{l-1}
+ c_l) with a linear output layer f(x) = W h_L + c, fine-tuned (Hinton &
Salakhutdinov 2006) to minimise the squared error Σ ‖f(x) - z(y)‖² on the
standardised targets z(y) = (y - mean) / std.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..io import register
from ._backprop import BackpropRegressor
from ._unrolled import UnrolledDBN, with_parameters


@register
@with_parameters
class DBNRegressor(UnrolledDBN, BackpropRegressor):
    """Deep belief net regressor: greedy RBM pre-training, then backprop fine-tuning.

    One or several real-valued targets (``y`` of shape (n,) or (n, n_outputs)).
    For inputs that are not in [0, 1], ``visible_units="gaussian"`` models them as
    real values (standardised inside the estimator); or scale them to [0, 1] first
    (e.g. ``MinMaxScaler``) for the default binary units.

    The defaults differ from :class:`~deepbelief.DBNClassifier`'s where regression
    needs it (measured on ``make_friedman1(3000, noise=0.5)``, a 30% held-out
    split): no dropout (with the classifier's 500-500-2000 net and budget,
    dropping 10% of 10 inputs and 30% of the hidden units left R² at 0.71,
    against 0.83 without), a fine-tuning budget ten times the classifier's with a
    patience of 50 epochs (the fit keeps improving past the classifier's budget: a
    100-100 net without dropout reached 0.81 in its 57 epochs, 0.987 after 443),
    and two layers of 256 units (0.987 after 243 epochs with a patience of 20).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    n_outputs_ : int
        Targets per row.
    target_transform_ : deepbelief.transforms.Standardize
        The training targets' means and standard deviations: the net's outputs
        are (y - shift) / scale.
    rbms_ : list of BernoulliRBM
        The pre-trained stack (before fine-tuning).
    net_ : torch.nn.Sequential
        The fine-tuned net, outputs standardised targets (see :meth:`to_torch` for
        a net that gives :meth:`predict`'s values).
    history_ : dict of lists
        Per fine-tuning epoch ``train_loss`` (the mean squared error per row in
        standardised units, summed over the outputs), ``validation_loss`` (per
        output), ``validation_r2`` (when held out) and ``seconds``.
    pretrain_history_ : list of dict
        Each layer's RBM ``history_``.
    times_ : dict
        Seconds spent in ``pretrain`` and ``finetune``.
    n_features_in_ : int

    Notes
    -----
    With binary visible units the training data must lie in [0, 1]; a fitted
    net takes any finite inputs through the same formulas, unclipped.
    """

    _parameter_constraints: ClassVar[dict] = UnrolledDBN._parameter_constraints

    def __init__(self, hidden_layer_sizes=(256, 256), *, pretrain_epochs: int | str = "auto",
                 rbm_params=None, sample_hidden: bool = False,
                 visible_units: str = "bernoulli", column_types: Any = "auto",
                 finetune_epochs: int | str = "auto",
                 optimizer: str = "adam", learning_rate: float | str = "auto",
                 learning_rate_schedule: str = "auto", momentum: float = 0.9,
                 weight_decay: float = 0.0, dropout: float = 0.0, input_dropout: float = 0.0,
                 batch_size: int = 100, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 50, device: Any = "cpu", dtype: str | None = None,
                 checkpoint_dir: str | None = None, checkpoint_every: int = 1,
                 random_state: Any = None, verbose: bool = False) -> None:
        super().__init__(
            hidden_layer_sizes, pretrain_epochs=pretrain_epochs, rbm_params=rbm_params,
            sample_hidden=sample_hidden, visible_units=visible_units,
            column_types=column_types, finetune_epochs=finetune_epochs, optimizer=optimizer,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule, momentum=momentum,
            weight_decay=weight_decay, dropout=dropout, input_dropout=input_dropout,
            batch_size=batch_size, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, device=device, dtype=dtype,
            checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every,
            random_state=random_state, verbose=verbose)

    def fit(self, X, y=None, *, callback=None, resume: bool = False) -> DBNRegressor:
        """Pre-train the RBM stack on ``X``, then fine-tune the unrolled net on (X, y).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features), or an
            iterable of ``(X_batch, y_batch)`` minibatches, as for
            :meth:`DBNClassifier.fit <deepbelief.DBNClassifier.fit>`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Real-valued targets (finite); None for a stream (whose first minibatch
            fixes the targets' standardisation).
        callback : callable, optional
            Called as ``callback(self)`` after each fine-tuning epoch; fine-tuning
            stops when it returns True.
        resume : bool, default=False
            Continue from the checkpoints in ``checkpoint_dir``.
        """
        return super().fit(X, y, callback=callback, resume=resume)


__all__ = ["DBNRegressor"]
