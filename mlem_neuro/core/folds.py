"""Cross-validation folds over stimuli, the pairs each fold trains and tests on, and checks.

A test fold can only score a metric on pairs that differ in the metric's
terms: when one term takes a single value over every test pair (one exemplar
of each category per run, folds of one run), that term cannot move the
ranking there, and when every term does, no ranking is possible and the
fold's score is undefined. ``cv="auto"`` picks folds that avoid this.
"""

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from .metric import constant_terms
from .pairs import pairs_within
from .user_warnings import warn
from .validation import check_positive_int

__all__ = [
    "make_folds",
    "check_groups",
    "fold_pairs",
    "warn_about_degenerate_folds",
    "AUTO_MAX_FOLDS",
]

AUTO_MAX_FOLDS = 5


def check_groups(groups, n_stimuli):
    """Group labels as an array of shape (n_stimuli,), or None."""
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.shape != (n_stimuli,):
        raise ValueError(
            f"groups must have shape ({n_stimuli},), one label per stimulus, got {groups.shape}."
        )
    return groups


def make_folds(cv, groups, n_stimuli, random_state, degenerate=None):
    """Train and test stimuli of every fold.

    Parameters
    ----------
    cv : None, "auto", int, scikit-learn splitter or iterable of (train, test)
        None: one fold that trains and scores on every stimulus (in-sample).
        An int: a shuffled KFold, or a GroupKFold when ``groups`` is given.
        "auto": the largest number of folds up to 5 (over groups when given)
        whose test folds are not degenerate.
    groups : array of shape (n_stimuli,) or None
    n_stimuli : int
    random_state : int or None
        Seed of the shuffled KFold.
    degenerate : callable, optional
        ``degenerate(test_stimuli)`` gives the names of the terms that take
        a single value over the pairs of those stimuli; used by "auto".

    Returns
    -------
    list of (train, test) int arrays
    """
    groups = check_groups(groups, n_stimuli)
    everything = np.arange(n_stimuli)
    if cv is None:
        return [(everything, everything)]
    if isinstance(cv, str):
        if cv != "auto":
            raise ValueError(
                "Invalid value for the 'cv' parameter: expected None, 'auto', an int, a "
                f"splitter or (train, test) pairs, got {cv!r}."
            )
        return _automatic_folds(groups, n_stimuli, random_state, degenerate)
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        cv = _splitter(int(cv), groups, random_state)
    splits = cv.split(everything, groups=groups) if hasattr(cv, "split") else cv
    folds = [_checked_fold(index, train, test) for index, (train, test) in enumerate(splits)]
    if not folds:
        raise ValueError("cv produced no fold.")
    return folds


def _automatic_folds(groups, n_stimuli, random_state, degenerate):
    """The most folds (at most 5) whose test folds all score every term."""
    n_groups = n_stimuli if groups is None else len(np.unique(groups))
    largest = min(AUTO_MAX_FOLDS, n_groups, n_stimuli // 3)
    if largest < 2:
        raise ValueError(
            f"cv='auto' needs at least 2 folds of 3 stimuli, but there are {n_stimuli} "
            f"stimuli in {n_groups} group(s); give cv=None for in-sample scores."
        )
    candidates = []
    for n_splits in range(largest, 1, -1):
        folds = make_folds(n_splits, groups, n_stimuli, random_state)
        if degenerate is None or not any(degenerate(test) for _, test in folds):
            return folds
        candidates.append(folds)
    return candidates[-1]


def _splitter(n_splits, groups, random_state):
    n_splits = check_positive_int("cv", n_splits, minimum=2)
    if groups is None:
        return KFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise ValueError(
            f"cv={n_splits} folds need at least {n_splits} distinct groups, got {n_groups}."
        )
    return GroupKFold(n_splits=n_splits)


def _checked_fold(index, train, test):
    train, test = np.asarray(train), np.asarray(test)
    if np.intersect1d(train, test).size:
        raise ValueError(f"cv fold {index} has stimuli in both its train and test sets.")
    if train.size < 3 or test.size < 3:
        raise ValueError(
            f"cv fold {index} has {train.size} training and {test.size} test stimuli; each "
            "needs at least 3 to rank pairs."
        )
    return train, test


def fold_pairs(folds, first, second, device):
    """Pool positions of the pairs within each fold's training and test stimuli.

    Returns
    -------
    list of (train_pairs, test_pairs) long tensors on ``device``
        No pair straddles the training and test stimuli.
    """
    return [
        (
            pairs_within(first, second, train).to(device),
            pairs_within(first, second, test).to(device),
        )
        for train, test in folds
    ]


def warn_about_degenerate_folds(test_terms, term_names, n_folds_hint):
    """Warn for every test fold in which some term cannot move the ranking.

    Parameters
    ----------
    test_terms : list of tensors of shape (n_test_pairs, n_terms)
        Terms of each fold's test pairs.
    term_names : list of str
    n_folds_hint : int
        Number of folds, to suggest fewer.
    """
    for fold, terms in enumerate(test_terms):
        constant = constant_terms(terms).tolist()
        if not any(constant):
            continue
        names = [name for name, flat in zip(term_names, constant) if flat]
        consequence = (
            "no ranking of its pairs is possible: its score is NaN"
            if all(constant)
            else "their importance there is NaN"
        )
        warn(
            f"cv fold {fold}: term(s) {names} take a single value over its {terms.shape[0]} "
            f"test pairs, so {consequence}. Use fewer, larger folds (for example "
            f"cv={max(2, n_folds_hint // 2)} folds over groups, or cv='auto') so that every "
            "test fold holds pairs that differ in every term."
        )


#: Held-out pairs under which a test fold's Spearman correlation takes too few values.
MIN_TEST_PAIRS = 10


def warn_about_small_folds(test_sizes):
    """Warn when test folds hold too few pairs to give a usable score.

    Parameters
    ----------
    test_sizes : list of int
        Held-out pairs of each test fold.
    """
    small = [(fold, size) for fold, size in enumerate(test_sizes) if size < MIN_TEST_PAIRS]
    if small:
        listed = ", ".join(f"fold {fold}: {size}" for fold, size in small[:5])
        warn(
            f"{len(small)} cv test fold(s) hold fewer than {MIN_TEST_PAIRS} pairs ({listed}"
            f"{'...' if len(small) > 5 else ''}): a Spearman correlation over so few pairs "
            "takes a handful of values. Use fewer, larger folds (cv='auto' chooses them), or "
            "more patterns per run (--pattern-method lss)."
        )
