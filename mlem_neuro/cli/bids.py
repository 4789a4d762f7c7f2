"""The bids command: a whole study, BIDS-Apps style (participant and group stages)."""

from pathlib import Path

from .arguments import (
    UsageError,
    add_fit_arguments,
    add_source_arguments,
    fit_options,
    new_command,
)

__all__ = ["register"]


def _config(args):
    from ..study import StudyConfig

    if args.analysis == "roi" and args.atlas is None:
        raise UsageError(
            "--analysis roi needs --atlas (a label image in the runs' space, or LEFT,RIGHT "
            "surface atlases)."
        )
    if (args.source_radius is not None or args.labels) and args.analysis != "timecourse":
        raise UsageError("--source-radius and --labels are for --analysis timecourse (M/EEG).")
    features = tuple(name.strip() for name in (args.features or "").split(",") if name.strip())
    if args.level == "participant" and not features:
        raise UsageError("--features COL[,COL...] is required for the participant stage.")
    try:
        cv = args.cv if args.cv == "auto" else (None if args.cv == "none" else int(args.cv))
    except ValueError:
        raise UsageError(f"--cv expects 'auto', an integer or 'none', got {args.cv!r}.") from None
    return StudyConfig(
        task=args.task,
        analysis=args.analysis,
        features=features,
        options=fit_options(args, check_device_here=False),
        cv=cv,
        stimuli_table=args.stimuli_table,
        space=args.space,
        radius=args.radius,
        atlas=args.atlas,
        confounds=args.confounds,
        method=args.pattern_method,
        tmin=args.tmin,
        tmax=args.tmax,
        baseline=None if args.no_baseline else (None, 0),
        window=args.window,
        step=args.step,
        source_radius=args.source_radius,
        source_labels=args.labels,
        inverse_method=args.inverse_method,
        snr=args.snr,
        shards=args.shards,
        report=not args.no_report,
    )


def _participant(args):
    from ..study import Engine, run_participants

    config = _config(args)
    engine_options = dict(
        workers=args.workers,
        scheduler=args.scheduler,
        cluster_config=args.cluster_config,
        dashboard_address=args.dashboard_address,
    )
    with Engine(**engine_options) as engine:
        outcome = run_participants(
            args.bids_dir,
            args.output_dir,
            config,
            labels=args.participant_label,
            derivatives=args.derivatives,
            engine=engine,
            overwrite=args.overwrite,
            verbose=not args.quiet,
        )
    for label, error in sorted(outcome.failed.items()):
        print(f"mlem-neuro bids: sub-{label} failed: {error}")
    print(
        f"{len(outcome.folders)} of {len(outcome.folders) + len(outcome.failed)} subjects "
        f"done; results in {args.output_dir}/sub-*/task-{args.task}_{args.analysis}/."
    )
    return 0 if outcome.succeeded else 1


def _group(args):
    from ..study import run_group

    folder = run_group(
        args.output_dir,
        args.task,
        args.analysis,
        args.measure,
        labels=args.participant_label,
        n_permutations=args.n_permutations,
        tfce=args.tfce,
        baseline=args.baseline,
        overwrite=args.overwrite,
        report=not args.no_report,
        random_state=args.random_state,
    )
    print(f"Group results written to {folder}/.")
    return 0


def _bids(args):
    if not Path(args.bids_dir).is_dir():
        raise UsageError(f"BIDS_DIR {args.bids_dir} is not a folder.")
    return _participant(args) if args.level == "participant" else _group(args)


def register(commands):
    """Add the bids command."""
    bids = new_command(
        commands,
        "bids",
        _bids,
        help="a whole BIDS study: every subject on a Dask cluster (participant), then "
        "group tests (group)",
    )
    bids.add_argument("bids_dir", help="the BIDS dataset")
    bids.add_argument("output_dir", help="where results go (a BIDS derivatives folder)")
    bids.add_argument("level", choices=["participant", "group"], help="the stage to run")
    bids.add_argument("--task", required=True, help="task label")
    bids.add_argument(
        "--analysis",
        required=True,
        choices=["searchlight", "roi", "timecourse"],
        help="searchlight or roi (fMRI), timecourse (M/EEG)",
    )
    bids.add_argument(
        "--features", default=None, help="event columns: COL[,COL...] (participant stage)"
    )
    bids.add_argument(
        "--participant-label", nargs="+", default=None, help="subjects (default: all)"
    )
    bids.add_argument(
        "--derivatives",
        default=None,
        help="fMRI: fMRIPrep derivatives (default BIDS_DIR/derivatives/fmriprep); M/EEG: a "
        "folder of epochs (MNE-BIDS-Pipeline layout; default: read the raw recordings)",
    )
    bids.add_argument(
        "--space",
        default=None,
        help="space of the fMRI runs: a volume template (MNI152NLin2009cAsym...), or fsaverage5 "
        "or fsnative for fMRIPrep's surface runs (hemi-L/hemi-R GIFTI)",
    )
    bids.add_argument("--radius", type=float, default=6.0, help="searchlight radius in mm")
    bids.add_argument(
        "--atlas",
        default=None,
        help="--analysis roi: a label image; on the surface, LEFT,RIGHT atlases (FreeSurfer "
        ".annot or .label.gii)",
    )
    bids.add_argument(
        "--stimuli-table", default=None, help="CSV/TSV of features keyed by trial_type"
    )
    bids.add_argument(
        "--confounds",
        default="simple",
        choices=["simple", "scrubbing", "compcor", "none"],
        help="nilearn's fMRIPrep denoising strategy",
    )
    bids.add_argument(
        "--pattern-method",
        default="lsa",
        choices=["lsa", "lss"],
        help="fMRI patterns per trial type and run (lsa) or per event (lss)",
    )
    bids.add_argument("--tmin", type=float, default=-0.1, help="M/EEG epoch start (s)")
    bids.add_argument("--tmax", type=float, default=0.6, help="M/EEG epoch end (s)")
    bids.add_argument("--no-baseline", action="store_true", help="M/EEG: no baseline correction")
    bids.add_argument("--window", type=float, default=None, help="M/EEG window width (s)")
    bids.add_argument("--step", type=float, default=None, help="M/EEG window step (s)")
    # Source space: each subject's inverse operator from --derivatives.
    add_source_arguments(bids, bids.add_mutually_exclusive_group())
    bids.add_argument(
        "--shards",
        type=int,
        default=1,
        help="split each volume searchlight into this many tasks",
    )
    engine = bids.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=int, default=None, help="local worker processes")
    engine.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    engine.add_argument(
        "--cluster-config", default=None, help="YAML for a dask-jobqueue cluster (SLURM...)"
    )
    bids.add_argument(
        "--dashboard-address",
        default="127.0.0.1:0",
        help="where a local cluster serves its Dask dashboard (default: this machine only)",
    )
    bids.add_argument(
        "--measure",
        default="score",
        help="group: score, importance_<term>, or weight_<term> with --baseline",
    )
    bids.add_argument(
        "--baseline", type=float, default=None, help="group: value the mean is tested against"
    )
    bids.add_argument("--n-permutations", type=int, default=5000, help="group: sign flips")
    bids.add_argument("--tfce", action="store_true", help="group maps: also TFCE")
    bids.add_argument("--overwrite", action="store_true", help="redo finished results")
    bids.add_argument("--no-report", action="store_true", help="do not write report.html")
    bids.add_argument(
        "--cv",
        default="auto",
        help="folds over runs and sessions: 'auto' (the most, up to 5, that score every "
        "term), an integer, or 'none' (in-sample scores, biased upward: not for group tests)",
    )
    add_fit_arguments(bids, folds=False)
