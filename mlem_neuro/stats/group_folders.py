"""Group tests across subjects' result folders: read, check, test, write.

:func:`group_test` reads one measure from several subjects' result folders
(searchlight maps, time courses or layer profiles, all of one kind and
feature set), runs the matching one-sample test (:func:`group_map_test`,
:func:`group_timecourse_test` or :func:`group_layer_test`) and returns a
:class:`GroupTest` that writes its own result folder.
"""

import dataclasses
import math

import numpy as np
import pandas as pd

from ..core import check_positive_int, recorded_warnings, warn
from ..outputs import open_result_folder, read_result, setting_differences
from .group import group_layer_test, group_map_test, group_timecourse_test
from .group_surface import group_surface_test
from .sign_flip import sign_flips_run, smallest_sign_flip_pvalue

__all__ = ["GroupTest", "group_test", "read_group_measure", "check_testable", "flips_run"]

TESTABLE = ("searchlight", "surface_searchlight", "timecourse", "layers", "roi")
# Results with one value per labelled unit (layer, region), and the column of the labels.
_LABELLED = {"layers": "layer", "roi": "label"}
# Under this many subjects, a group test of scores warns that it leans on a symmetric null
# while cross-validated scores of noise are slightly right-skewed; in the design measured
# it was not liberal (benchmarks/RESULTS.md, "Group-test calibration").
SKEW_SUBJECTS = 10


def read_group_measure(folders, measure="score"):
    """Load one measure from several subjects' result folders, checked for consistency.

    Parameters
    ----------
    folders : list of str or Path
        Result folders of ``searchlight``, ``timecourse``, ``layers`` or ``roi`` (all
        of one kind, fitted on the same features).
    measure : str
        "score", "importance_<term>" or "weight_<term>".

    Returns
    -------
    kind : {"searchlight", "timecourse", "layers", "roi"}
    data : list of Nifti1Image (searchlight) or array
        Time courses: (n_subjects, n_times) or (n_subjects, n_times,
        n_channels); layers and regions: (n_subjects, n_labels).
    axis : dict
        "times", "ch_names" and "info" (spatial time courses) or "labels".
    """
    results = [read_result(folder) for folder in folders]
    kinds = [result.kind for result in results]
    if len(set(kinds)) > 1:
        raise ValueError(
            "Results of different kinds cannot be mixed in one group test: "
            + ", ".join(f"{result.path} is {kind}" for result, kind in zip(results, kinds))
        )
    kind = kinds[0]
    if kind not in TESTABLE:
        raise ValueError(
            f"{results[0].path} holds a {kind!r} result; group tests take searchlight, "
            "timecourse, layers or roi results."
        )
    for result in results[1:]:
        if result.features != results[0].features:
            raise ValueError(
                f"{result.path} has features {result.features} but {results[0].path} has "
                f"{results[0].features}; a group test needs the same feature set in every "
                "result."
            )
    _check_same_analysis(results)
    if kind == "searchlight":
        return kind, [result.map(measure) for result in results], {}
    if kind == "surface_searchlight":
        return kind, *_surface_maps(results, measure)
    return kind, *_stacked_tables(results, kind, measure)


def _surface_maps(results, measure):
    """Subjects' maps on their common template mesh, which group tests need."""
    from ..surface import read_surface_map

    meshes = [result.summary.get("mesh") for result in results]
    for result, mesh in zip(results, meshes):
        if not (isinstance(mesh, str) and mesh.startswith("fsaverage")):
            raise ValueError(
                f"{result.path} was computed on {mesh!r}, not on an fsaverage template; a group "
                "test compares vertices across subjects, so their maps must share one mesh "
                "(fMRIPrep's --output-spaces fsaverage5, for example)."
            )
        if mesh != meshes[0]:
            raise ValueError(
                f"{result.path} is on {mesh} but {results[0].path} on {meshes[0]}; a group test "
                "needs every map on one mesh."
            )
    return [read_surface_map(result, measure, meshes[0]) for result in results], {"mesh": meshes[0]}


#: Recorded settings that change what a result measures, compared across subjects.
ANALYSIS_SETTINGS = (
    "cv",
    "radius_mm",
    "window_s",
    "step_s",
    "noise_normalization",
    "spatial",
    "model",
    "study_settings",
)
#: Fit options that do not change what is measured (beyond float rounding).
_INCIDENTAL_OPTIONS = ("random_state", "device", "verbose", "units_per_chunk", "dtype")


def _analysis(result):
    summary = result.summary
    options = {
        name: value
        for name, value in summary.get("options", {}).items()
        if name not in _INCIDENTAL_OPTIONS
    }
    return {"options": options, **{name: summary.get(name) for name in ANALYSIS_SETTINGS}}


def _check_same_analysis(results):
    """Refuse results fitted with other settings (an 8 mm MLEM map beside a 16 mm NNLS one)."""
    reference = _analysis(results[0])
    for result in results[1:]:
        differing = setting_differences(_analysis(result), reference)
        if differing:
            raise ValueError(
                f"{result.path} was analysed with other settings than {results[0].path} "
                f"({', '.join(differing)} differ); a group test needs results of one analysis."
            )


def _stacked_tables(results, kind, measure):
    name = kind
    tables = [result.table(name) for result in results]
    for result, table in zip(results, tables):
        if measure not in table.columns:
            raise ValueError(
                f"{result.path / name}.tsv has no column {measure!r} (columns: "
                f"{list(table.columns)})."
            )
    if kind in _LABELLED:
        column = _LABELLED[kind]
        _check_same(results, [table[column].to_numpy() for table in tables], f"{column}s")
        values = np.stack([table[measure].to_numpy() for table in tables])
        return values, {"labels": tables[0][column].to_numpy()}
    if "channel" not in tables[0].columns:
        _check_same(results, [table["time"].to_numpy() for table in tables], "time points")
        values = np.stack([table[measure].to_numpy() for table in tables])
        return values, {"times": tables[0]["time"].to_numpy()}
    grids = [table.pivot(index="time", columns="channel", values=measure) for table in tables]
    _check_same(results, [grid.index.to_numpy() for grid in grids], "time points")
    _check_same(results, [np.sort(grid.columns.to_numpy()) for grid in grids], "channels")
    info = results[0].info("sensors")
    if set(grids[0].columns) != set(info["ch_names"]):
        raise ValueError(f"{results[0].path}: sensors-info.fif does not match timecourse.tsv.")
    grids = [grid[info["ch_names"]] for grid in grids]
    values = np.stack([grid.to_numpy() for grid in grids])
    axis = {"times": grids[0].index.to_numpy(), "ch_names": list(info["ch_names"]), "info": info}
    return values, axis


def _check_same(results, arrays, what):
    for result, array in zip(results[1:], arrays[1:]):
        if len(array) != len(arrays[0]) or not np.array_equal(array, arrays[0]):
            raise ValueError(f"{result.path} has different {what} from {results[0].path}.")


def flips_run(kind, n_subjects, n_permutations):
    """How the one-sided test of a kind of result runs: exact or not, and its flips.

    Regions and layers: our max-t test (exact when ``n_permutations`` covers the
    ``2**n - 1`` flips besides the identity). Time courses: MNE's cluster test
    (exact when ``n_permutations >= 2**n``; otherwise ``n_permutations - 1``
    random flips beside the identity). Maps: nilearn's ``n_permutations``
    random flips. Surface maps: our max-t test and MNE's cluster test run the
    same flips.

    Returns
    -------
    exact : bool
    n_flips : int
        Flips besides the identity.
    """
    if kind in _LABELLED:
        return sign_flips_run(n_subjects, n_permutations)
    if kind == "surface_searchlight":
        return sign_flips_run(n_subjects, n_permutations)
    if kind == "timecourse":
        exact = n_permutations >= 2**n_subjects
        return exact, 2**n_subjects - 1 if exact else n_permutations - 1
    return False, n_permutations


def check_testable(measure, baseline):
    """Refuse a group test of learned weights against 0, which has no valid null.

    Raises
    ------
    ValueError
        ``measure`` is a ``weight_<term>`` and no ``baseline`` is given.
    """
    if measure.startswith("weight_") and baseline is None:
        raise ValueError(
            f"{measure} has no null at 0: weights are non-negative by construction (softplus "
            "in MLEM, non-negative least squares), so a sign-flip test against 0 rejects on "
            "noise; test score or importance_<term>, or give a baseline to test the weights "
            "against (baseline=, --baseline)."
        )


@dataclasses.dataclass
class GroupTest:
    """A one-sample test across subjects of one measure of their results.

    Attributes
    ----------
    kind : {"searchlight", "timecourse", "layers"}
    measure : str
    folders : list of str
        The subjects' result folders.
    outcome : GroupMapResult, GroupTimecourseResult or DataFrame
        What the test function returned.
    data : list of images or array
        The subjects' values.
    axis : dict
        Time points, channels or layers of the values.
    summary : dict
        Subjects, permutations requested and run, smallest possible p-value.
    """

    kind: str
    measure: str
    folders: list
    outcome: object
    data: object
    axis: dict
    summary: dict

    def save(self, out_dir, *, overwrite=False, parameters=None):
        """Write the group maps or tables and summary.json.

        Searchlight: t.nii.gz, logp_<correction>.nii.gz (-log10 corrected
        p), clusters.tsv. Time courses: clusters.tsv and group_timecourse.tsv
        (or t.npy and mask.npy for sensors x time). Layers: group_layers.tsv.

        Parameters
        ----------
        out_dir : str, Path or ResultFolder
        overwrite : bool
        parameters : dict, optional
            Extra entries for summary.json.

        Returns
        -------
        Path
        """
        with open_result_folder(out_dir, "group", overwrite=overwrite) as folder:
            getattr(self, f"_write_{self.kind}")(folder)
            folder.update_summary(**self.summary, **(parameters or {}))
        return folder.path

    def _write_searchlight(self, folder):
        folder.write_map("t", self.outcome.t_img)
        for name, img in self.outcome.logp_imgs.items():
            folder.write_map(f"logp_{name}", img)
        if self.outcome.clusters is not None:
            folder.write_table("clusters", self.outcome.clusters)

    def _write_surface_searchlight(self, folder):
        from ..surface import plot_surface_map, write_surface_map

        write_surface_map(folder, "t", self.outcome.t_img)
        for name, img in self.outcome.logp_imgs.items():
            write_surface_map(folder, f"logp_{name}", img)
        folder.write_table("clusters", self.outcome.clusters)
        mesh = self.axis["mesh"]
        figure = plot_surface_map(self.outcome.t_img, mesh, title="one-sample t")
        folder.write_figure("group_t", figure)
        best = self.outcome.logp_imgs.get("tfce", self.outcome.logp_imgs["cluster_mass"])
        figure = plot_surface_map(
            best, mesh, title="-log10 p (FWER), p < 0.05", cmap="YlOrRd", threshold=-np.log10(0.05)
        )
        folder.write_figure("group_logp", figure)
        folder.update_summary(mesh=mesh)

    def _write_timecourse(self, folder):
        folder.write_table("clusters", self.outcome.clusters)
        if self.outcome.mask.ndim == 1:
            table = pd.DataFrame(
                {
                    "time": self.axis["times"],
                    "mean": self.data.mean(axis=0),
                    "t": self.outcome.t,
                    "significant": self.outcome.mask,
                }
            )
            folder.write_table("group_timecourse", table)
        else:
            folder.write_array("t", self.outcome.t)
            folder.write_array("mask", self.outcome.mask)
            folder.write_info("sensors", self.axis["info"])
        folder.update_summary(times=self.axis["times"])

    def _write_layers(self, folder):
        folder.write_table("group_layers", self.outcome)

    def _write_roi(self, folder):
        folder.write_table("group_roi", self.outcome.rename(columns={"layer": "label"}))


def group_test(
    folders,
    measure="score",
    *,
    n_permutations=5000,
    tfce=False,
    cluster_threshold=0.001,
    radius=None,
    baseline=None,
    random_state=None,
):
    """One-sample permutation test across subjects of their result folders.

    Parameters
    ----------
    folders : list of str or Path
        One result folder per subject (searchlight, timecourse or layers).
    measure : str
        "score", "importance_<term>" or "weight_<term>".
    n_permutations : int
        Random sign flips (all of them, exactly, where MNE can).
    tfce : bool
        Maps: also threshold-free cluster enhancement.
    cluster_threshold : float
        Maps: cluster-forming uncorrected p-value.
    radius : float or None
        Sensor x time courses: neighbour radius in metres (None: MNE's
        channel adjacency).
    baseline : float or None
        The value the mean is tested against (0 when None). Needed for
        ``weight_<term>``, which is never tested against 0.
    random_state : int or None

    Returns
    -------
    GroupTest
    """
    n_permutations = check_positive_int("n_permutations", n_permutations)
    check_testable(measure, baseline)
    with recorded_warnings() as messages:
        kind, data, axis = read_group_measure(folders, measure)
        summary = _summary(len(folders), n_permutations, kind, measure, folders)
        shifted = _minus(data, baseline or 0.0)
        outcome = _test(
            kind, shifted, axis, n_permutations, tfce, cluster_threshold, radius, random_state
        )
        if kind in _LABELLED:
            outcome["mean"] += baseline or 0.0
    summary["baseline"] = baseline or 0.0
    summary["features"] = read_result(folders[0]).features
    summary["warnings"] = messages
    return GroupTest(kind, measure, [str(f) for f in folders], outcome, data, axis, summary)


def _test(kind, data, axis, n_permutations, tfce, cluster_threshold, radius, random_state):
    if kind == "searchlight":
        return group_map_test(
            data,
            n_permutations=n_permutations,
            cluster_threshold=cluster_threshold,
            tfce=tfce,
            random_state=random_state,
        )
    if kind == "surface_searchlight":
        return group_surface_test(
            data,
            axis["mesh"],
            n_permutations=n_permutations,
            cluster_threshold=cluster_threshold,
            tfce=tfce,
            random_state=random_state,
        )
    if kind == "timecourse":
        return _timecourse_test(data, axis, n_permutations, radius, random_state)
    return group_layer_test(
        data, axis["labels"], n_permutations=n_permutations, random_state=random_state
    )


def _timecourse_test(data, axis, n_permutations, radius, random_state):
    adjacency = None
    if "info" in axis:
        from ..meeg import sensor_adjacency

        adjacency = sensor_adjacency(axis["info"], radius)
    return group_timecourse_test(
        data,
        axis["times"],
        adjacency=adjacency,
        ch_names=axis.get("ch_names"),
        n_permutations=n_permutations,
        random_state=random_state,
    )


def _minus(data, baseline):
    if not baseline:
        return data
    if isinstance(data, list) and hasattr(data[0], "mesh"):  # surface maps
        from nilearn.surface import SurfaceImage

        return [
            SurfaceImage(
                img.mesh, {h: np.asarray(part) - baseline for h, part in img.data.parts.items()}
            )
            for img in data
        ]
    if isinstance(data, list):  # maps
        import nibabel as nib

        return [nib.Nifti1Image(img.get_fdata() - baseline, img.affine) for img in data]
    return data - baseline


def _summary(n_subjects, n_permutations, kind, measure, folders):
    exact, run = flips_run(kind, n_subjects, n_permutations)
    floor = smallest_sign_flip_pvalue(n_subjects, run)
    if measure == "score" and n_subjects < SKEW_SUBJECTS:
        warn(
            f"With {n_subjects} subjects (fewer than {SKEW_SUBJECTS}), the sign-flip test of "
            "scores leans on a null symmetric around 0, but cross-validated scores of noise are "
            "slightly right-skewed; check the false-positive rates measured on noise subjects "
            "(docs/stats.md, 'Few subjects') against your design."
        )
    if 1 / 2**n_subjects > 0.05:
        # Random flips (not exact) estimate each p-value, and the estimate scatters around it.
        scatter = "" if exact else " (its estimate from random flips only by chance)"
        warn(
            f"With {n_subjects} subjects a sign-flip test has only {2**n_subjects} distinct "
            f"flips: no p-value can go below {floor:.3g}{scatter}, so nothing can reach "
            f"p < 0.05. Test at least {math.ceil(math.log2(1 / 0.05))} subjects."
        )
    elif floor > 0.05:
        warn(
            f"n_permutations={n_permutations}: no p-value can go below {floor:.3g}; use at "
            "least 19 permutations (thousands for corrected p-values)."
        )
    return {
        "kind_tested": kind,
        "measure": measure,
        "n_subjects": n_subjects,
        "results": [str(folder) for folder in folders],
        "n_permutations_requested": n_permutations,
        "n_permutations_run": run,
        "exact_test": exact,
        "smallest_possible_pvalue": floor,
    }
