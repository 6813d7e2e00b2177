"""The slides' spam filter: naive Bayes on six mails, without and with Laplace smoothing.

P(class | words) ∝ P(class) · Π_i P(w_i | class). Without smoothing a single word never
seen in a class ("lottery" in normal mail) zeroes that class's score; with additive
smoothing (alpha=1) every word keeps a small probability.

Run: ``python examples/spam_naive_bayes.py``
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from deepbelief.naive_bayes import MultinomialNB

MAILS = [
    ("me free lottery", "spam"),
    ("free get free you", "spam"),
    ("you free scholarship", "normal"),
    ("free to contact me", "normal"),
    ("you won award", "normal"),
    ("you ticket lottery", "spam"),
]
QUERY = "you free lottery"


def report(alpha: float, vectorizer: CountVectorizer, X: np.ndarray, y: list[str]) -> None:
    """Print the per-word probabilities, the scores and the posterior for ``QUERY``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MultinomialNB(alpha=alpha).fit(X, y)
    print(f"\n--- alpha = {alpha:g} ---")
    for w in caught:
        print(f"warning: {w.message}")
    words = QUERY.split()
    columns = [vectorizer.vocabulary_[w] for w in words]
    x = vectorizer.transform([QUERY]).toarray()
    joint = np.exp(model.predict_joint_log_proba(x))[0]
    for c, label in enumerate(model.classes_):
        counts = model.feature_count_[c, columns] + alpha
        total = model.feature_count_[c].sum() + alpha * X.shape[1]
        theta = np.exp(model.feature_log_prob_[c, columns])
        factors = " · ".join(f"{n:g}/{total:g}" for n in counts)
        print(f"P(x | {label}) = {factors} = {np.prod(theta):.6g}")
        print(f"P({label}) · P(x | {label}) = {np.exp(model.class_log_prior_[c]):g} · "
              f"{np.prod(theta):.6g} = {joint[c]:.6g}")
    proba = model.predict_proba(x)[0]
    posterior = ", ".join(f"{c} {p:.6g}" for c, p in zip(model.classes_, proba, strict=True))
    print(f"P(class | x): {posterior}")
    print("prediction:", model.predict(x)[0])


def main() -> None:
    texts, y = zip(*MAILS, strict=True)
    vectorizer = CountVectorizer()
    X = vectorizer.fit_transform(texts).toarray()
    print("vocabulary:", " ".join(vectorizer.get_feature_names_out()))
    for label in ("normal", "spam"):
        rows = [i for i, lab in enumerate(y) if lab == label]
        print(f"{label}: {len(rows)} mails, {X[rows].sum()} tokens")
    print(f"query: {QUERY!r}")
    report(0.0, vectorizer, X, list(y))
    report(1.0, vectorizer, X, list(y))


if __name__ == "__main__":
    main()
