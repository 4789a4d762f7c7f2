"""Theoretical features: from a table of stimuli to distances between pairs.

A feature is *numeric* (numbers), *ordinal* (an ordered pandas Categorical,
coded by the position of each level in its categories) or *categorical*
(booleans, unordered categories, strings: two stimuli are at distance 0 when
they share the level, 1 otherwise). For a pair of stimuli the
feature-distance vector is ``d_f = |x_if - x_jf| / (max_f - min_f)`` for
numeric and ordinal features: the largest difference is 1, and the raw
difference is taken before it is scaled, so that pairs with equal raw
differences get exactly equal distances in every dtype.

Missing values (NaN, None, pd.NA) follow the ``missing`` policy:

- ``"raise"`` (default): refuse them, naming the column and the rows.
- ``"zero"``: a pair in which either stimulus lacks the feature gets distance 0
  on that feature, i.e. the feature is taken to say nothing about the pair.
"""

import numpy as np
import pandas as pd
import torch

from .options import MISSING_POLICIES
from .user_warnings import warn
from .validation import check_option

__all__ = [
    "FeatureEncoder",
    "pair_feature_distances",
    "check_precomputed_feature_distances",
    "check_feature_rows",
]


def check_feature_rows(features, n_samples, sample="volume"):
    """A feature table with one row per sample of the patterns, re-indexed from 0.

    Parameters
    ----------
    features : DataFrame of shape (n_samples, n_features)
    n_samples : int
        Samples (volumes, vertices' data arrays...) of the patterns.
    sample : str
        What a sample is called in errors.

    Returns
    -------
    DataFrame
    """
    if not isinstance(features, pd.DataFrame):
        raise TypeError(
            f"features must be a DataFrame with one row per {sample}, got "
            f"{type(features).__name__}."
        )
    if len(features) != n_samples:
        raise ValueError(
            f"features has {len(features)} rows but the patterns have {n_samples} {sample}s; "
            f"give one row per {sample}, in {sample} order."
        )
    return features.reset_index(drop=True)


def _column_kind(name, column):
    """'numeric', 'ordinal' or 'categorical' for a pandas column, or a clear error."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        return "ordinal"
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "numeric"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        values = column.dropna()
        if all(isinstance(value, (str, bool, np.bool_)) for value in values):
            return "categorical"
        kinds = sorted({type(value).__name__ for value in values})
        raise TypeError(
            f"Feature {name!r} holds values of type(s) {kinds}; expected numbers, booleans, "
            "categories or strings. Convert the column before fitting."
        )
    raise TypeError(
        f"Feature {name!r} has dtype {dtype}, which is not a known feature type; expected a "
        "numeric, boolean, categorical or string column."
    )


class FeatureEncoder:
    """Learn how to code each feature, then code tables of stimuli.

    Parameters
    ----------
    missing : {"raise", "zero"}
        Policy for missing values, see the module docstring.

    Attributes
    ----------
    feature_names_ : list of str
    kinds_ : list of {"numeric", "ordinal", "categorical"}
    """

    def __init__(self, missing="raise"):
        self.missing = missing

    def fit(self, features):
        """Learn names, kinds, numeric ranges and categorical levels.

        Parameters
        ----------
        features : DataFrame or array of shape (n_stimuli, n_features)

        Returns
        -------
        self
        """
        check_option("missing", self.missing, MISSING_POLICIES)
        table = self._as_table(features)
        if table.shape[0] < 2:
            raise ValueError(
                f"features must describe at least 2 stimuli, got {table.shape[0]} row(s)."
            )
        if table.shape[1] < 1:
            raise ValueError("features must have at least one column, got none.")
        names = [str(name) for name in table.columns]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"features has duplicated column names: {duplicated}.")
        self.feature_names_ = names
        self.kinds_ = []
        self._ranges = []
        self._levels = []
        for name, (_, column) in zip(names, table.items()):
            kind = _column_kind(name, column)
            self._check_missing(name, column)
            observed = column.dropna()
            if observed.nunique() < 2:
                raise ValueError(
                    f"Feature {name!r} is constant over the stimuli (single level "
                    f"{observed.iloc[0] if len(observed) else 'missing'!r}): it cannot explain "
                    "any neural distance. Drop it from the feature table."
                )
            self.kinds_.append(kind)
            if kind == "ordinal":
                values = observed.cat.codes.to_numpy(dtype=float)
                self._ranges.append((values.min(), values.max()))
                self._levels.append(column.dtype.categories)
            elif kind == "numeric":
                values = observed.to_numpy(dtype=float)
                if not np.all(np.isfinite(values)):
                    raise ValueError(f"Feature {name!r} contains infinite values.")
                self._ranges.append((values.min(), values.max()))
                self._levels.append(None)
            else:
                self._ranges.append(None)
                self._levels.append(pd.Index(pd.unique(observed)))
        return self

    def transform(self, features):
        """Code a table of stimuli with the learned encoding.

        Parameters
        ----------
        features : DataFrame or array of shape (n_stimuli, n_features)
            Same columns as the table given to :meth:`fit`.

        Returns
        -------
        codes : array of shape (n_stimuli, n_features)
            Values of numeric features as given (:attr:`scales_` scales
            their differences), positions of ordinal levels in their
            categories, and level indices of categorical features (levels
            unseen in :meth:`fit` get new indices); NaN where missing.
        """
        table = self._as_table(features)
        names = [str(name) for name in table.columns]
        if names != self.feature_names_:
            raise ValueError(
                f"features has columns {names}, but the model was fitted on {self.feature_names_}."
            )
        codes = np.empty(table.shape, dtype=np.float64)
        for index, (name, (_, column)) in enumerate(zip(names, table.items())):
            self._check_missing(name, column)
            kind = self.kinds_[index]
            if kind == "ordinal":
                if column.dtype != pd.CategoricalDtype(self._levels[index], ordered=True):
                    raise TypeError(
                        f"Feature {name!r} was ordinal when fitted, with categories "
                        f"{list(self._levels[index])} in that order; got {column.dtype}."
                    )
                values = column.cat.codes.to_numpy(dtype=float)
                codes[:, index] = np.where(values < 0, np.nan, values)
            elif kind == "numeric":
                if _column_kind(name, column) != "numeric":
                    raise TypeError(
                        f"Feature {name!r} was numeric when fitted, got {column.dtype}."
                    )
                codes[:, index] = column.to_numpy(dtype=float, na_value=np.nan)
            else:
                levels = self._levels[index]
                unseen = pd.Index(pd.unique(column.dropna())).difference(levels)
                all_levels = levels.append(unseen)
                level_codes = all_levels.get_indexer(column.to_numpy(dtype=object))
                codes[:, index] = np.where(column.isna().to_numpy(), np.nan, level_codes)
        return codes

    def describe(self, max_levels=12):
        """What each feature is: name, kind, and its levels or range.

        Returns
        -------
        list of dict
            ``name``, ``kind``, then ``levels`` (categorical and ordinal, at
            most ``max_levels`` listed, with ``n_levels``) or ``min`` and
            ``max`` (numeric).
        """
        rows = []
        for name, kind, levels, bounds in zip(
            self.feature_names_, self.kinds_, self._levels, self._ranges
        ):
            row = {"name": name, "kind": kind}
            if kind == "numeric":
                row.update(min=float(bounds[0]), max=float(bounds[1]))
            else:
                row.update(n_levels=len(levels), levels=[str(v) for v in levels[:max_levels]])
            rows.append(row)
        return rows

    @property
    def categorical_(self):
        """Boolean array of shape (n_features,): True for categorical features."""
        return np.array([kind == "categorical" for kind in self.kinds_])

    @property
    def scales_(self):
        """Array of shape (n_features,): the range that divides each feature's differences.

        ``max - min`` over the fitted stimuli for numeric and ordinal
        features, 1 for categorical ones.
        """
        return np.array(
            [1.0 if bounds is None else bounds[1] - bounds[0] for bounds in self._ranges]
        )

    def _check_missing(self, name, column):
        missing_rows = np.flatnonzero(column.isna().to_numpy())
        if self.missing == "raise" and missing_rows.size:
            raise ValueError(
                f"Feature {name!r} has {missing_rows.size} missing value(s) (rows "
                f"{missing_rows[:5].tolist()}{'...' if missing_rows.size > 5 else ''}). Fill "
                "them, or pass missing='zero' (--missing zero on the command line) to give "
                "pairs involving them distance 0 on this feature."
            )

    @staticmethod
    def _as_table(features):
        if isinstance(features, pd.DataFrame):
            return features
        if isinstance(features, pd.Series):
            return features.to_frame()
        array = np.asarray(features)
        if array.ndim != 2:
            raise ValueError(
                "features must be a DataFrame or a 2D array of shape (n_stimuli, n_features), "
                f"got an array of shape {array.shape}."
            )
        if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
            raise TypeError(
                f"features given as an array must be numeric, got dtype {array.dtype}; use a "
                "DataFrame for categorical features."
            )
        return pd.DataFrame(array, columns=[f"feature_{index}" for index in range(array.shape[1])])


def pair_feature_distances(codes, categorical, scales, first, second):
    """Feature-distance vectors of pairs of stimuli.

    Parameters
    ----------
    codes : tensor of shape (n_stimuli, n_features)
        Output of :meth:`FeatureEncoder.transform`, NaN where missing.
    categorical : bool tensor of shape (n_features,)
    scales : tensor of shape (n_features,)
        What each numeric difference is divided by
        (:attr:`FeatureEncoder.scales_`).
    first, second : long tensors of shape (n_pairs,)
        The two stimuli of each pair.

    Returns
    -------
    distances : tensor of shape (n_pairs, n_features)
        ``|x_i - x_j| / scale`` for numeric features, ``x_i != x_j`` for
        categorical ones, 0 where either value is missing.
    """
    a, b = codes[first], codes[second]
    numeric = (a - b).abs() / scales
    different = (a != b).to(codes.dtype)
    distances = torch.where(categorical, different, numeric)
    return torch.nan_to_num(distances.masked_fill(a.isnan() | b.isnan(), 0.0), nan=0.0)


def check_precomputed_feature_distances(distances):
    """Validate precomputed feature distances.

    Parameters
    ----------
    distances : array of shape (n_stimuli, n_stimuli, n_features)
        Symmetric in the first two axes, finite and non-negative.

    Returns
    -------
    array of shape (n_stimuli, n_stimuli, n_features), float64
    """
    array = np.asarray(distances, dtype=np.float64)
    if array.ndim != 3 or array.shape[0] != array.shape[1]:
        raise ValueError(
            "Precomputed feature distances must have shape (n_stimuli, n_stimuli, "
            f"n_features), got {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("Precomputed feature distances contain NaN or infinite values.")
    if np.any(array < 0):
        raise ValueError("Precomputed feature distances must be non-negative.")
    if not np.allclose(array, array.transpose(1, 0, 2)):
        raise ValueError("Precomputed feature distances must be symmetric in the stimulus axes.")
    if np.any(np.diagonal(array) != 0):
        warn(
            "Precomputed feature distances have non-zero diagonal entries; only pairs of "
            "distinct stimuli are used.",
        )
    return array
