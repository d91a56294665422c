"""Suggesting a category for a short Chinese complaint text, entirely offline.

Two suggesters and the policy that picks between them:

* `TextClassifier` learns from history: character 1–3-grams, hashed (no vocabulary to keep in
  step with the data, so online updates never change the feature space), and a logistic-loss
  SGD classifier, which gives probabilities and can be updated one correction at a time.
  Characters rather than words because Chinese has no spaces and a word segmenter would need a
  dictionary download; bigrams and trigrams catch most words anyway (占道, 噪音, 群租房).
* `KeywordMatcher` covers the cold start, before there is enough confirmed history.
* `suggest()` chooses between them.

Nothing here touches the database; callers store `TextClassifier.to_bytes()` themselves.
"""

from __future__ import annotations

import copy
import pickle
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from itertools import groupby

import numpy as np
import scipy.sparse
import sklearn
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

# Below this best probability the classifier is guessing (with eight categories, uniform is
# 0.125), so matching keywords, when there are any, are the better suggestion.
MIN_CONFIDENCE = 0.2

_FORMAT = 1  # bump when the pickled state changes shape


def normalize(text: str) -> str:
    """NFKC folds full-width letters, digits and punctuation (common from Chinese input methods)
    into their ordinary forms, so "ＡＢＣ１２３" and "ABC123" give the same n-grams."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def _vectorizer() -> HashingVectorizer:
    # Stateless: hashing needs no fitting, so fit, partial_fit and suggest, and copies loaded in
    # other processes, all see the same features.
    return HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=2**20,
                             alternate_sign=False, norm="l2")


class TextClassifier:
    """Character n-grams + logistic-loss SGD, trainable in full and updatable online.

    Labels are strings. The weights (one row of 2**20 per label) are kept as a sparse
    column-major matrix between learning runs: every n-gram never seen has weight exactly zero,
    so memory and `to_bytes()` grow with the n-grams in the history rather than with the hash
    space, and a suggestion reads only the columns of the text's n-grams (about 0.2 ms, however
    large the model). scikit-learn's own dense weights made each suggestion copy the whole
    matrix, 8 MB per label. SGD learns on dense weights, so fit() and partial_fit() hold
    n_labels × 8 MB while they run.
    """

    def __init__(self, *, alpha: float = 1e-4, random_state: int = 0):
        self.alpha = alpha
        self.random_state = random_state
        self.n_samples = 0  # samples the model learned from (fit plus partial_fit)
        # Labels that partial_fit met but the model cannot learn (see partial_fit).
        self.unknown_labels: set[str] = set()
        self._stale = False  # loaded from another scikit-learn version (see from_bytes)
        self._model: SGDClassifier | None = None
        self._vectorizer = _vectorizer()

    # --- learning --------------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        return [] if self._model is None else [str(c) for c in self._model.classes_]

    @property
    def needs_refit(self) -> bool:
        """True when the caller should run fit() on the whole history: partial_fit met labels
        the model does not know, or the model was saved by another scikit-learn version."""
        return bool(self.unknown_labels) or self._stale

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextClassifier:
        """Train from scratch on the full history (at least two distinct labels)."""
        texts, labels = _check(texts, labels)
        if len(set(labels)) < 2:
            raise ValueError("fit() needs samples of at least two labels")
        model = SGDClassifier(loss="log_loss", alpha=self.alpha, random_state=self.random_state)
        model.fit(self._features(texts), labels)
        _compact(model)
        self._model = model
        self.n_samples = len(texts)
        self.unknown_labels = set()
        self._stale = False
        return self

    def partial_fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextClassifier:
        """Learn from a few more samples, typically the dispatchers' corrections.

        Samples whose label the model already knows are learned at once. SGD cannot add a class
        to a trained model, so a sample with a new label is not learned: its label goes into
        `unknown_labels`, `needs_refit` becomes true, and suggestions keep using the known
        labels until the caller runs fit() again on the whole history. The texts themselves
        are not kept (the caller's database has them; keeping them would grow every save).
        Before the first fit() every label is unknown.
        """
        texts, labels = _check(texts, labels)
        known = set(self.labels)
        learnable = [(t, label) for t, label in zip(texts, labels, strict=True) if label in known]
        self.unknown_labels |= {label for label in labels if label not in known}
        if learnable:
            model = self._model
            # Row-major (scipy gives a column-major matrix a column-major array): SGD updates
            # each label's row in place and refuses non-contiguous rows.
            model.coef_ = np.ascontiguousarray(model.coef_.toarray())
            try:
                model.partial_fit(self._features([t for t, _ in learnable]),
                                  [label for _, label in learnable])
            finally:
                _compact(model)
            self.n_samples += len(learnable)
        return self

    # --- using -----------------------------------------------------------------------------

    def suggest(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """Up to k (label, probability) pairs, most probable first; [] before fit() or for a
        blank text."""
        if self._model is None or not normalize(text):
            return []
        proba = self._model.predict_proba(self._features([text]))[0]
        best = np.argsort(-proba, kind="stable")[:k]
        return [(str(self._model.classes_[i]), float(proba[i])) for i in best]

    def _features(self, texts: Iterable[str]):
        return self._vectorizer.transform([normalize(t) for t in texts])

    # --- storing ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The state as a pickle, about 12 bytes per (label, n-gram seen) pair: a few hundred KB
        for a few hundred samples."""
        model = self._model
        if model is not None:
            # Row-major for storage: column-major carries an index entry per hash bucket (4 MB
            # however small the model). shallow copy: only the copy's coef_ is rebound.
            model = copy.copy(model)
            model.coef_ = model.coef_.tocsr()
        state = {"format": _FORMAT, "sklearn": sklearn.__version__, "model": model,
                 "n_samples": self.n_samples, "unknown_labels": sorted(self.unknown_labels),
                 "alpha": self.alpha, "random_state": self.random_state}
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> TextClassifier:
        """Load what to_bytes() wrote.

        pickle can run arbitrary code while loading. That is acceptable only because these
        bytes are our own: written by our training task and loaded only from our own database.
        Never pass bytes that came from a user, an upload or the network.
        """
        state = pickle.loads(data)  # our own data only: see the docstring
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError("not a TextClassifier saved by this version of Zhili")
        self = cls(alpha=state["alpha"], random_state=state["random_state"])
        self._model = state["model"]
        if self._model is not None:
            _compact(self._model)
        self.n_samples = state["n_samples"]
        self.unknown_labels = set(state["unknown_labels"])
        # The pickle loaded, but the estimator's internals may differ between scikit-learn
        # versions: keep suggesting, and ask for a fresh fit.
        self._stale = state["sklearn"] != sklearn.__version__
        return self


def _compact(model: SGDClassifier) -> None:
    """Sparse weights between learning runs (see TextClassifier). Column-major, so that
    `X @ coef_.T` in predict_proba is a sparse row times a sparse row-major matrix; with
    row-major (sklearn's sparsify()) scipy converts the whole matrix on every call."""
    model.coef_ = scipy.sparse.csc_matrix(model.coef_)


def _check(texts: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    texts, labels = list(texts), [str(label) for label in labels]
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise ValueError("no samples")
    return texts, labels


class KeywordMatcher:
    """Cold-start suggestions from keywords per label, e.g. {"占道经营": ["占道", "摆摊"]}.

    A label scores the summed length of its keywords found in the text, each keyword once,
    so longer (more specific) keywords weigh more. A keyword found only inside a longer keyword
    that also matched does not count again ("垃圾" inside "垃圾桶"), wherever that longer one
    belongs. Scores are each label's share of the matched weight: they rank labels and show how
    contested the match is, not how likely the suggestion is to be right.
    """

    def __init__(self, keywords: Mapping[str, Iterable[str]]):
        self._order = {label: i for i, label in enumerate(keywords)}
        # Longest first, so that shorter keywords can be checked against longer matches.
        self._keywords = sorted({(normalize(word), label) for label, words in keywords.items()
                                 for word in words if normalize(word)},
                                key=lambda item: (-len(item[0]), item))

    def suggest(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        text = normalize(text)
        covered = [False] * len(text)  # characters explained by a longer matched keyword
        scores: dict[str, float] = {}
        for length, group in groupby(self._keywords, key=lambda item: len(item[0])):
            fresh = []
            for word, label in group:
                spans = [range(start, start + length) for start in _occurrences(text, word)]
                spans = [span for span in spans if not all(covered[i] for i in span)]
                if spans:
                    scores[label] = scores.get(label, 0.0) + length
                    fresh.extend(spans)
            # Marked only after the whole group, so a keyword shared by two labels, or two
            # overlapping keywords of the same length, count for every label.
            for span in fresh:
                for i in span:
                    covered[i] = True
        total = sum(scores.values())
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self._order[item[0]]))
        return [(label, score / total) for label, score in ranked[:k]]


def _occurrences(text: str, word: str) -> Iterable[int]:
    start = text.find(word)
    while start != -1:
        yield start
        start = text.find(word, start + 1)


def suggest(text: str, *, classifier: TextClassifier | None, keywords: KeywordMatcher | None,
            min_samples: int = 200, k: int = 3) -> list[tuple[str, float]]:
    """The suggestion policy: (label, score) pairs, best first, possibly empty.

    The classifier once it has learned from at least `min_samples` samples (before that it
    mostly echoes whatever categories came first), otherwise the keywords. When even the
    trained classifier is unsure (best probability below MIN_CONFIDENCE) and keywords match,
    the keywords win: a text unlike the history is better served by an explicit keyword.
    """
    by_keywords = keywords.suggest(text, k=k) if keywords is not None else []
    if classifier is None or classifier.n_samples < min_samples:
        return by_keywords
    ranked = classifier.suggest(text, k=k)
    if by_keywords and (not ranked or ranked[0][1] < MIN_CONFIDENCE):
        return by_keywords
    return ranked
