"""Cross-validation folds over stimuli, and the pairs each fold trains and tests on."""

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from .pairs import pairs_within
from .validation import check_positive_int

__all__ = ["make_folds", "check_groups", "fold_pairs"]


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


def make_folds(cv, groups, n_stimuli, random_state):
    """Train and test stimuli of every fold.

    Parameters
    ----------
    cv : None, int, scikit-learn splitter or iterable of (train, test)
        None: one fold that trains and scores on every stimulus (in-sample).
        An int: a shuffled KFold, or a GroupKFold when ``groups`` is given.
    groups : array of shape (n_stimuli,) or None
    n_stimuli : int
    random_state : int or None
        Seed of the shuffled KFold.

    Returns
    -------
    list of (train, test) int arrays
    """
    groups = check_groups(groups, n_stimuli)
    everything = np.arange(n_stimuli)
    if cv is None:
        return [(everything, everything)]
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        cv = _splitter(int(cv), groups, random_state)
    splits = cv.split(everything, groups=groups) if hasattr(cv, "split") else cv
    folds = [_checked_fold(index, train, test) for index, (train, test) in enumerate(splits)]
    if not folds:
        raise ValueError("cv produced no fold.")
    return folds


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
