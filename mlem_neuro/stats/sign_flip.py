"""One-sample max-t sign-flip test across subjects, one- or two-sided, exact when small.

Under the null hypothesis that each subject's values are symmetric around
zero, flipping the sign of a subject's whole row of values (all labels
together, so that their dependence is kept) leaves their joint distribution
unchanged. The maximum over labels of the one-sample t statistic, recomputed
for every flip, gives family-wise corrected p-values. The one-sided test
takes the maximum of t itself (not of ``|t|``): its smallest p-value is
``1 / 2**n_subjects``.
"""

import dataclasses
import itertools

import numpy as np

__all__ = ["SignFlipResult", "sign_flip_max_t", "sign_flips_run", "smallest_sign_flip_pvalue"]

# Compared statistics that differ by rounding only count as equal.
_TOLERANCE = 1e-9
# Flips x labels evaluated at a time (float64: 32 MiB per temporary), so that maps of
# tens of thousands of vertices fit in memory as well as a few layers.
_BLOCK_VALUES = 2**22


@dataclasses.dataclass
class SignFlipResult:
    """Outcome of :func:`sign_flip_max_t`.

    Attributes
    ----------
    t : array of shape (n_labels,)
        One-sample t statistic of the real data.
    pvalues_fwer : array of shape (n_labels,)
        Family-wise corrected across labels by the maximum statistic.
    exact : bool
        Whether every one of the ``2**n_subjects`` flips was evaluated.
    n_flips : int
        Flips evaluated besides the identity.
    smallest_pvalue : float
        The smallest p-value this test could give.
    """

    t: np.ndarray
    pvalues_fwer: np.ndarray
    exact: bool
    n_flips: int
    smallest_pvalue: float


def sign_flips_run(n_subjects, n_permutations, exact=None):
    """Whether the test enumerates every flip, and how many flips it evaluates.

    Parameters
    ----------
    n_subjects, n_permutations : int
    exact : bool or None
        None: exact when ``n_permutations`` random flips would be at least
        as many as the ``2**n_subjects - 1`` distinct non-identity flips.

    Returns
    -------
    exact : bool
    n_flips : int
        Flips besides the identity.
    """
    distinct = 2**n_subjects - 1
    if exact is None:
        exact = n_permutations >= distinct
    return bool(exact), distinct if exact else n_permutations


def _t_statistics(sums, sum_squares, n):
    """One-sample t from sums and sums of squares (the latter unchanged by sign flips)."""
    mean = sums / n
    variance = (sum_squares - n * mean**2) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return mean / np.sqrt(np.maximum(variance, 0) / n)


def _flip_blocks(n_subjects, n_flips, exact, rng, n_labels):
    """Sign matrices of shape (block, n_subjects), identity excluded when exact."""
    block_size = max(1, _BLOCK_VALUES // max(n_labels, 1))
    if exact:
        signs = itertools.islice(itertools.product((1.0, -1.0), repeat=n_subjects), 1, None)
        while block := list(itertools.islice(signs, block_size)):
            yield np.array(block)
        return
    for start in range(0, n_flips, block_size):
        size = min(block_size, n_flips - start)
        yield rng.choice((1.0, -1.0), size=(size, n_subjects))


def sign_flip_max_t(values, n_permutations=10000, *, two_sided=False, exact=None, rng=None):
    """Max-t sign-flip test of the mean of each column across subjects.

    Parameters
    ----------
    values : array of shape (n_subjects, n_labels)
        Finite values of every subject (rows) for every label (columns:
        layers, regions).
    n_permutations : int
        Random flips when the test is not exact.
    two_sided : bool
        Test ``mean != 0`` with the maximum of ``|t|``; else ``mean > 0``
        with the maximum of ``t``.
    exact : bool or None
        Enumerate all ``2**n_subjects`` flips (None: when ``n_permutations``
        is at least their number).
    rng : numpy.random.Generator, optional
        For random flips.

    Returns
    -------
    SignFlipResult
        p-values count the identity: ``#{max >= t} / 2**n`` when exact,
        ``(1 + #{max >= t}) / (1 + n_permutations)`` otherwise.
    """
    values = np.asarray(values, dtype=float)
    n_subjects = values.shape[0]
    exact, n_flips = sign_flips_run(n_subjects, n_permutations, exact)
    rng = np.random.default_rng(rng)
    sum_squares = (values**2).sum(axis=0)
    observed = _t_statistics(values.sum(axis=0), sum_squares, n_subjects)
    compared = np.abs(observed) if two_sided else observed
    exceed = np.zeros(values.shape[1])
    for signs in _flip_blocks(n_subjects, n_flips, exact, rng, values.shape[1]):
        t = _t_statistics(signs @ values, sum_squares, n_subjects)
        t = np.abs(t) if two_sided else t
        maxima = np.where(np.isnan(t), -np.inf, t).max(axis=1)
        exceed += (maxima[:, None] >= compared[None, :] - _TOLERANCE).sum(axis=0)
    pvalues = np.where(np.isnan(compared), np.nan, (1 + exceed) / (1 + n_flips))
    return SignFlipResult(
        t=observed,
        pvalues_fwer=pvalues,
        exact=exact,
        n_flips=n_flips,
        smallest_pvalue=smallest_sign_flip_pvalue(n_subjects, n_flips, two_sided),
    )


def smallest_sign_flip_pvalue(n_subjects, n_flips, two_sided=False):
    """The smallest p-value of a sign-flip test of ``n_flips`` flips besides the identity.

    A one-sided test has ``2**n_subjects`` distinct flips, the identity
    included; a two-sided one half as many distinct values of ``|t|``.
    """
    distinct = 2 ** (n_subjects - 1) if two_sided else 2**n_subjects
    return max(1 / distinct, 1 / (1 + n_flips))
