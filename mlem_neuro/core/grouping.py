"""Group the pairs of stimuli that share a term vector.

Pairs with the same terms get the same predicted distance in every unit, so
ranks and correlations over pairs can be computed over groups, weighted by
their sizes.
"""

import math

import torch

__all__ = ["TermKeys", "group_pairs", "group_sums"]

_MAX_KEY = 2**62
_MAX_DIRECT_KEYS = 2**16
_PROBE_PAIRS = 4096


class TermKeys:
    """Integer key of each pair's term vector, one digit per term.

    Each term's distinct values are coded 0 ... n_values - 1 and the codes are
    combined in mixed radix. ``usable`` is False when the keys would overflow
    (terms with many distinct values, e.g. continuous features).

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
    """

    def __init__(self, terms):
        self.values, self.codes, self.place = [], [], [1]
        # The distinct values of a few pairs bound those of all from below: enough
        # to see that continuous terms overflow, without coding a million pairs.
        at_least = math.prod(len(torch.unique(column)) for column in terms[:_PROBE_PAIRS].T)
        self.usable = at_least < _MAX_KEY
        for column in terms.T if self.usable else ():
            values, codes = torch.unique(column, return_inverse=True)
            self.values.append(values)
            self.codes.append(codes)
            self.place.append(self.place[-1] * len(values))
            if self.place[-1] >= _MAX_KEY:  # continuous terms: no need to code the others
                self.usable = False
                break
        self.n_keys = self.place.pop()
        self._all_group_terms = None
        if self.usable:
            self.keys = sum(code * place for code, place in zip(self.codes, self.place))

    def shuffled(self, term, permutation):
        """Keys after shuffling one term's column with ``permutation``."""
        code = self.codes[term]
        return self.keys + (code[permutation] - code) * self.place[term]

    def groups(self, keys, keep_empty=False):
        """Groups of pairs with equal keys.

        Parameters
        ----------
        keys : long tensor of shape (n_pairs,)
        keep_empty : bool
            When the keys take few possible values (at most 65,536), index
            groups by the key itself, empty groups included (count 0): no
            sort is needed, which makes repeated groupings cheap. Callers
            must then tolerate zero counts.

        Returns
        -------
        group_terms : tensor of shape (n_groups, n_terms)
        group_of_pair : long tensor of shape (n_pairs,)
        counts : long tensor of shape (n_groups,)
        """
        every_group = self.every_group_terms if keep_empty else None
        if every_group is not None:
            return every_group, keys, torch.bincount(keys, minlength=self.n_keys)
        unique_keys, group_of_pair, counts = torch.unique(
            keys, return_inverse=True, return_counts=True
        )
        return self._terms_of(unique_keys), group_of_pair, counts

    @property
    def every_group_terms(self):
        """Terms of every possible key, the groups ``groups(keys, keep_empty=True)`` returns.

        Tensor of shape (n_keys, n_terms), the same whatever the keys (only
        the counts change); None when the keys are too many to list (more than
        65,536) or unusable.
        """
        if not self.usable or self.n_keys > _MAX_DIRECT_KEYS:
            return None
        if self._all_group_terms is None:
            every_key = torch.arange(self.n_keys, device=self.keys.device)
            self._all_group_terms = self._terms_of(every_key)
        return self._all_group_terms

    def _terms_of(self, keys):
        columns = []
        for values, place in zip(self.values, self.place):
            columns.append(values[(keys // place) % len(values)])
        return torch.stack(columns, dim=1)


def group_pairs(terms, at_most=None):
    """Group the pairs that share a term vector.

    Parameters
    ----------
    terms : tensor of shape (n_pairs, n_terms)
    at_most : int, optional
        Give up (return None) when there are more groups than this; decided
        on the first ``2 * at_most`` pairs when they already hold more, so that
        continuous designs are not sorted whole for nothing.

    Returns
    -------
    group_terms : tensor of shape (n_groups, n_terms)
    group_of_pair : long tensor of shape (n_pairs,)
    counts : tensor of shape (n_groups,)
        Or None, with more than ``at_most`` groups.
    """
    if at_most is not None and len(terms) > 2 * at_most:
        if len(torch.unique(terms[: 2 * at_most], dim=0)) > at_most:
            return None
    term_keys = TermKeys(terms)
    if not term_keys.usable:
        grouping = torch.unique(terms, dim=0, return_inverse=True, return_counts=True)
    else:
        grouping = term_keys.groups(term_keys.keys)
    return None if at_most is not None and len(grouping[2]) > at_most else grouping


def group_sums(values, group_of_pair, n_groups):
    """Sum values within each group.

    Parameters
    ----------
    values : tensor of shape (n_units, n_pairs)
    group_of_pair : long tensor of shape (n_pairs,)
    n_groups : int

    Returns
    -------
    tensor of shape (n_units, n_groups)
    """
    return values.new_zeros(values.shape[0], n_groups).index_add_(1, group_of_pair, values)
