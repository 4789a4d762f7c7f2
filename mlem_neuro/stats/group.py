"""Group-level tests of MLEM results across subjects (or model seeds).

Nilearn's non-parametric second-level inference for maps and MNE's
cluster-based permutation tests for time courses and sensor x time maps; for
layer profiles and regions our own max-t sign-flip test (:mod:`.sign_flip`),
since MNE's ``permutation_t_test`` takes the maximum of ``|t|`` even when
one-sided. The null hypothesis is always "the mean over subjects is zero"
(one-sample, sign flips), one-sided (scores and importances above zero)
unless ``two_sided`` is asked.
"""

import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..core import check_positive_int
from .sign_flip import sign_flip_max_t

__all__ = [
    "GroupMapResult",
    "GroupTimecourseResult",
    "group_map_test",
    "group_timecourse_test",
    "group_layer_test",
]


def _check_subjects(values, name, minimum=2):
    values = np.asarray(values, dtype=float)
    if values.shape[0] < minimum:
        raise ValueError(
            f"{name} needs at least {minimum} subjects for a sign-flip test, got {values.shape[0]}."
        )
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return values


@dataclasses.dataclass
class GroupMapResult:
    """Second-level maps of a one-sample sign-flip permutation test.

    Attributes
    ----------
    t_img : Nifti1Image
        One-sample t statistic per voxel.
    logp_imgs : dict of str to Nifti1Image
        -log10 family-wise corrected p-values: ``"voxel"`` (max-t), and
        ``"cluster_size"`` / ``"cluster_mass"`` (with a cluster-forming
        threshold) or ``"tfce"``.
    clusters : DataFrame or None
        nilearn's cluster table of the t map above the cluster-forming
        threshold (peak coordinates in mm, t, cluster size), clusters of at
        least ``min_cluster_size`` voxels; None when not asked for.
    n_permutations : int
    """

    t_img: object
    logp_imgs: dict
    clusters: pd.DataFrame
    n_permutations: int


def group_map_test(
    imgs,
    mask_img=None,
    *,
    n_permutations=5000,
    cluster_threshold=0.001,
    tfce=False,
    two_sided=False,
    random_state=None,
    n_jobs=1,
    cluster_table=True,
    min_cluster_size=10,
):
    """One-sample permutation test of subjects' maps with cluster or TFCE correction.

    Parameters
    ----------
    imgs : list of 3D Nifti1Image or paths
        One map per subject (score or importance), all in the same space.
    mask_img : Nifti1Image or path, optional
        Voxels to test; default: voxels finite and non-zero in every map
        (searchlight maps are NaN outside their mask).
    n_permutations : int
    cluster_threshold : float
        Uncorrected p-value that forms clusters (for cluster-size and
        cluster-mass inference and the cluster table).
    tfce : bool
        Also threshold-free cluster enhancement.
    two_sided : bool
    random_state : int or None
    n_jobs : int
    cluster_table : bool
        Also build the cluster table (nilearn's, which takes seconds on
        whole-brain maps with many small clusters).
    min_cluster_size : int
        Smallest cluster (voxels) listed in the table.

    Returns
    -------
    GroupMapResult
    """
    import nibabel as nib
    from nilearn.glm.second_level import non_parametric_inference
    from nilearn.reporting import get_clusters_table

    n_permutations = check_positive_int("n_permutations", n_permutations)
    if len(imgs) < 2:
        raise ValueError(f"imgs needs at least 2 subjects' maps, got {len(imgs)}.")
    imgs = [nib.load(img) if not hasattr(img, "affine") else img for img in imgs]
    reference = imgs[0]
    for index, img in enumerate(imgs[1:], start=1):
        if img.shape[:3] != reference.shape[:3] or not np.allclose(img.affine, reference.affine):
            raise ValueError(
                f"Map {index} has shape {img.shape} and affine\n{img.affine}\nbut map 0 has "
                f"shape {reference.shape} and affine\n{reference.affine}; every map must be in "
                "the same space (resample with nilearn.image.resample_to_img)."
            )
    data = np.stack([np.asarray(img.dataobj, dtype=float) for img in imgs])
    if mask_img is None:
        mask = (np.isfinite(data) & (data != 0)).all(axis=0)
        if not mask.any():
            raise ValueError("No voxel is finite and non-zero in every map; give mask_img.")
        mask_img = nib.Nifti1Image(mask.astype(np.uint8), reference.affine)
    finite = [nib.Nifti1Image(np.nan_to_num(volume), reference.affine) for volume in data]
    degrees = len(imgs) - 1
    z = stats.t.isf(cluster_threshold / (2 if two_sided else 1), degrees)
    with warnings.catch_warnings():
        # nilearn's own cluster maps are int64 images, which it converts and warns about.
        warnings.filterwarnings("ignore", message="Data array used to create a new image")
        outputs = non_parametric_inference(
            finite,
            design_matrix=pd.DataFrame({"intercept": np.ones(len(imgs))}),
            second_level_contrast="intercept",
            mask=mask_img,
            n_perm=n_permutations,
            two_sided_test=two_sided,
            random_state=random_state,
            n_jobs=n_jobs,
            threshold=cluster_threshold,
            tfce=tfce,
        )
    names = {
        "logp_max_t": "voxel",
        "logp_max_size": "cluster_size",
        "logp_max_mass": "cluster_mass",
        "logp_max_tfce": "tfce",
    }
    logp = {names[key]: img for key, img in outputs.items() if key in names}
    clusters = None
    if cluster_table:
        clusters = get_clusters_table(
            outputs["t"],
            stat_threshold=z,
            cluster_threshold=check_positive_int("min_cluster_size", min_cluster_size),
            two_sided=two_sided,
        )
    return GroupMapResult(
        t_img=outputs["t"], logp_imgs=logp, clusters=clusters, n_permutations=n_permutations
    )


@dataclasses.dataclass
class GroupTimecourseResult:
    """Cluster-based permutation test of subjects' time courses (or sensor x time maps).

    Attributes
    ----------
    t : array of shape (n_times,) or (n_times, n_channels)
        One-sample t statistic.
    clusters : DataFrame
        One row per cluster: ``start`` and ``stop`` times (s), ``mass`` (sum
        of t), ``pvalue`` (corrected), and ``channels`` for sensor x time
        clusters.
    mask : bool array of the shape of ``t``
        Samples in a cluster with ``pvalue < alpha``; ready to shade a plot
        or to pass as ``mask`` to ``mne.Evoked.plot_topomap``.
    """

    t: np.ndarray
    clusters: pd.DataFrame
    mask: np.ndarray


def group_timecourse_test(
    values,
    times,
    *,
    adjacency=None,
    ch_names=None,
    n_permutations=1024,
    threshold=None,
    two_sided=False,
    alpha=0.05,
    random_state=None,
):
    """MNE's cluster-based one-sample permutation test over time (and sensors).

    Parameters
    ----------
    values : array of shape (n_subjects, n_times) or (n_subjects, n_times, n_channels)
        Scores or importances of each subject.
    times : array of shape (n_times,)
    adjacency : sparse matrix of shape (n_channels, n_channels), optional
        Channel adjacency for sensor x time values (from
        :func:`mne.channels.find_ch_adjacency`); time points are adjacent to
        their neighbours.
    ch_names : list of str, optional
        Channel names, for the cluster table.
    n_permutations : int
    threshold : float or None
        Cluster-forming t threshold; None: the t value of p = 0.05
        (one-sided unless ``two_sided``).
    two_sided : bool
    alpha : float
        Cluster p-value under which ``mask`` marks a cluster.
    random_state : int or None

    Returns
    -------
    GroupTimecourseResult
    """
    from mne.stats import permutation_cluster_1samp_test, spatio_temporal_cluster_1samp_test

    values = _check_subjects(values, "values")
    times = np.asarray(times, dtype=float)
    if values.shape[1] != len(times):
        raise ValueError(f"values has {values.shape[1]} time points but times has {len(times)}.")
    n_permutations = check_positive_int("n_permutations", n_permutations)
    degrees = values.shape[0] - 1
    if threshold is None:
        threshold = stats.t.isf(0.05 / (2 if two_sided else 1), degrees)
    options = dict(
        threshold=threshold,
        n_permutations=n_permutations,
        tail=0 if two_sided else 1,
        rng=random_state,
        out_type="mask",
        verbose="error",
    )
    if values.ndim == 2:
        t, clusters, pvalues, _ = permutation_cluster_1samp_test(values, **options)
    elif values.ndim == 3:
        if adjacency is None:
            raise ValueError(
                "Sensor x time values need the channel adjacency (mne.channels.find_ch_adjacency)."
            )
        t, clusters, pvalues, _ = spatio_temporal_cluster_1samp_test(
            values, adjacency=adjacency, **options
        )
    else:
        raise ValueError(
            "values must have shape (n_subjects, n_times) or (n_subjects, n_times, "
            f"n_channels), got {values.shape}."
        )
    rows = []
    mask = np.zeros(t.shape, dtype=bool)
    for selection, pvalue in zip(clusters, pvalues):
        # MNE gives a boolean mask, or a tuple of slices for 1D data.
        cluster = np.zeros(t.shape, dtype=bool)
        cluster[selection] = True
        in_time = cluster.any(axis=1) if cluster.ndim == 2 else cluster
        row = {
            "start": float(times[in_time].min()),
            "stop": float(times[in_time].max()),
            "mass": float(t[cluster].sum()),
            "pvalue": float(pvalue),
        }
        if cluster.ndim == 2:
            channels = np.flatnonzero(cluster.any(axis=0))
            row["channels"] = ",".join(
                str(ch_names[c]) if ch_names is not None else str(c) for c in channels
            )
        rows.append(row)
        if pvalue < alpha:
            mask |= cluster
    columns = ["start", "stop", "mass", "pvalue"] + (["channels"] if values.ndim == 3 else [])
    table = pd.DataFrame(rows, columns=columns).sort_values("pvalue", ignore_index=True)
    return GroupTimecourseResult(t=t, clusters=table, mask=mask)


def group_layer_test(
    values,
    layers=None,
    *,
    n_permutations=10000,
    two_sided=False,
    exact=None,
    random_state=None,
):
    """Sign-flip test per layer (or region) across subjects or seeds, FWER-corrected by max-t.

    Parameters
    ----------
    values : array of shape (n_subjects, n_layers)
        Scores (or importances) of each subject's (or seed's) layer profile.
    layers : array of shape (n_layers,), optional
        Layer labels (default 0 ... n_layers - 1).
    n_permutations : int
        Random sign flips; all ``2**n_subjects`` of them, exactly, when
        there are no more than ``n_permutations + 1``.
    two_sided : bool
        One-sided (mean above zero, the maximum of t) unless True (the
        maximum of ``|t|``).
    exact : bool or None
        Force (True) or forbid (False) the exact enumeration.
    random_state : int or None

    Returns
    -------
    DataFrame of shape (n_layers, 4)
        ``layer``, ``mean``, ``t``, ``pvalue_fwer``. The test run (exact or
        not, flips, smallest possible p) is in ``DataFrame.attrs``.
    """
    values = _check_subjects(values, "values")
    if values.ndim != 2:
        raise ValueError(f"values must have shape (n_subjects, n_layers), got {values.shape}.")
    layers = np.arange(values.shape[1]) if layers is None else np.asarray(layers)
    if len(layers) != values.shape[1]:
        raise ValueError(f"layers has {len(layers)} labels for {values.shape[1]} layers.")
    test = sign_flip_max_t(
        values,
        check_positive_int("n_permutations", n_permutations),
        two_sided=two_sided,
        exact=exact,
        rng=random_state,
    )
    table = pd.DataFrame(
        {
            "layer": layers,
            "mean": values.mean(axis=0),
            "t": test.t,
            "pvalue_fwer": test.pvalues_fwer,
        }
    )
    table.attrs.update(
        exact_test=test.exact, n_flips=test.n_flips, smallest_possible_pvalue=test.smallest_pvalue
    )
    return table
