"""First-level designs checked before their patterns are trusted.

Real events files are broken in ways that a GLM does not complain about:
events that start after the run has ended (empty or cut regressors),
conditions that share onsets (collinear regressors whose betas cannot be told
apart), designs whose matrix is rank deficient. Each run's design is checked
before any pattern is estimated, and every problem is said in one line naming
the run.
"""

import numpy as np

from ..core import warn

__all__ = ["check_run_design", "COLLINEARITY"]

#: Correlation between two trial regressors above which their betas cannot be told apart.
COLLINEARITY = 0.9


def check_run_design(table, n_volumes, t_r, run, design_options):
    """The events of one run that a GLM can use, with a warning for each problem found.

    Parameters
    ----------
    table : DataFrame
        The run's events: onset, duration (seconds), trial_type; its index
        numbers the events (kept, so that dropped events do not renumber the
        others).
    n_volumes : int
    t_r : float
    run : int
        The run's index, for messages.
    design_options : dict
        ``hrf_model``, ``drift_model`` and ``high_pass`` of the GLM.

    Returns
    -------
    DataFrame
        The events that start within the run.

    Raises
    ------
    ValueError
        No event starts within the run: no pattern can be estimated.
    """
    last_volume = (n_volumes - 1) * t_r
    late = table["onset"] > last_volume
    if late.all():
        raise ValueError(
            f"run {run}: all {len(table)} events start after the run's last volume "
            f"({n_volumes} volumes of {t_r:g} s, the last at {last_volume:g} s): no pattern can "
            "be estimated. Check that onsets are in seconds from the run's first volume, and "
            "the TR."
        )
    kept = table[~late]
    if late.any():
        lost = sorted(set(table.loc[late, "trial_type"].astype(str)) - set(kept["trial_type"]))
        warn(
            f"run {run}: {int(late.sum())} event(s) start after the run's last volume (at "
            f"{last_volume:g} s; onsets up to {table['onset'].max():g} s) and are left out of "
            "its design"
            + (f"; trial type(s) {lost[:5]} have no event left in this run." if lost else ".")
        )
    ends = kept["onset"] + kept["duration"]
    overrun = ends > last_volume + t_r
    if overrun.any():
        warn(
            f"run {run}: {int(overrun.sum())} event(s) end after the run (at "
            f"{last_volume + t_r:g} s; up to {ends.max():g} s): their regressors are cut."
        )
    _check_collinearity(kept, n_volumes, t_r, run, design_options)
    return kept


def _design_matrix(events, n_volumes, t_r, design_options):
    from nilearn.glm.first_level import make_first_level_design_matrix

    frame_times = np.arange(n_volumes) * t_r
    events = events[["onset", "duration", "trial_type"]].astype({"trial_type": str})
    return make_first_level_design_matrix(frame_times, events, **design_options)


def _check_collinearity(events, n_volumes, t_r, run, design_options):
    """Warn about trial regressors that are nearly collinear, and a rank-deficient design."""
    design = _design_matrix(events, n_volumes, t_r, design_options)
    conditions = sorted(events["trial_type"].astype(str).unique())
    trials = design[conditions].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        correlations = np.corrcoef(trials, rowvar=False) if len(conditions) > 1 else np.ones((1, 1))
    pairs = [
        (conditions[i], conditions[j], correlations[i, j])
        for i in range(len(conditions))
        for j in range(i + 1, len(conditions))
        if abs(correlations[i, j]) > COLLINEARITY
    ]
    if pairs:
        listed = ", ".join(f"{a!r} and {b!r} (r = {r:.2f})" for a, b, r in pairs[:5])
        warn(
            f"run {run}: trial regressors are nearly collinear: {listed}"
            f"{'...' if len(pairs) > 5 else ''}. Their patterns cannot be told apart (events "
            "that share onsets?); separate their onsets, or merge the conditions."
        )
    rank = np.linalg.matrix_rank(design.to_numpy())
    if rank < design.shape[1]:
        warn(
            f"run {run}: the design matrix is rank deficient (rank {rank} of {design.shape[1]} "
            "columns): some betas are not estimable, and their patterns are arbitrary."
        )
