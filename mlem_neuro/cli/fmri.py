"""fMRI commands: patterns, searchlight, roi; on volumes (NIfTI) and surfaces (GIFTI)."""

from pathlib import Path

import numpy as np

from .arguments import (
    UsageError,
    add_fit_arguments,
    add_output_arguments,
    fit_options,
    fold_arguments,
    load_features,
    new_command,
    output_folder,
    provenance,
)
from .reporting import finish

__all__ = ["register"]


def _existing(paths, option):
    for path in paths:
        if not Path(path).exists():
            raise UsageError(f"{option}: file not found: {path}")
    return list(paths)


def _patterns(args):
    from ..fmri import estimate_patterns, save_patterns

    bold = _existing(args.bold, "BOLD")
    on_surface = all(path.endswith(".gii") for path in bold)
    if on_surface and args.mask:
        raise UsageError("--mask: only for NIfTI runs; GIFTI runs are modelled at every vertex.")
    if not on_surface and args.mesh is not None:
        raise UsageError("--mesh: only for GIFTI runs (hemi-L/hemi-R pairs).")
    events = _existing(args.events, "--events")
    confounds = _existing(args.confounds, "--confounds") if args.confounds else None
    mask = _existing([args.mask], "--mask")[0] if args.mask else None
    with output_folder(args, "patterns") as folder:
        patterns, stimuli = estimate_patterns(
            bold,
            events,
            args.t_r,
            method=args.method,
            confounds=confounds,
            mask_img=mask,
            mesh=_mesh(args.mesh),
            verbose=not args.quiet,
        )
        save_patterns(folder, patterns, stimuli, bold_imgs=bold, parameters=provenance(args))
    files = "patterns_hemi-L/R.func.gii" if on_surface else "patterns.nii.gz"
    print(f"{len(stimuli)} patterns written to {folder.path}/ ({files}, stimuli.tsv).")


def _background(args, patterns):
    """--background, else the mean BOLD image the patterns command wrote beside PATTERNS."""
    if args.background:
        return _existing([args.background], "--background")[0]
    beside = Path(patterns).parent / "mean_bold.nii.gz"
    return beside if beside.exists() else None


def _pattern_files(args, command):
    """PATTERNS: one 4D image, or a hemi-L/hemi-R GIFTI pair; True for the pair (surfaces)."""
    patterns = _existing(args.patterns, "PATTERNS")
    if len(patterns) not in (1, 2):
        raise UsageError(
            f"PATTERNS: expected one 4D image, or two GIFTI files (hemi-L, hemi-R), got "
            f"{len(patterns)} files."
        )
    on_surface = len(patterns) == 2
    volume_only = [option for option in ("mask", "background") if getattr(args, option, None)]
    if on_surface and volume_only:
        raise UsageError(
            f"--{volume_only[0]}: only for NIfTI patterns; GIFTI patterns leave out vertices "
            f"without signal themselves (the medial wall), and {command} maps are drawn on the "
            "inflated cortex."
        )
    if not on_surface and args.mesh is not None:
        raise UsageError(
            "--mesh: only for GIFTI patterns (a hemi-L/hemi-R pair); NIfTI patterns need no mesh."
        )
    return patterns, on_surface


def _searchlight(args):
    from ..fmri import searchlight
    from ..surface import searchlight as surface_searchlight

    patterns, on_surface = _pattern_files(args, "searchlight")
    options = fit_options(args)
    features, table = load_features(args, args.features)
    cv, groups = fold_arguments(args, table)
    with output_folder(args, "surface_searchlight" if on_surface else "searchlight") as folder:
        fit = dict(options=options, cv=cv, groups=groups, checkpoint=folder.checkpoint_path)
        if on_surface:
            result = surface_searchlight(
                patterns, features, args.radius, mesh=_mesh(args.mesh), **fit
            )
        else:
            result = searchlight(
                patterns[0],
                features,
                args.mask,
                args.radius,
                bg_img=_background(args, patterns[0]),
                **fit,
            )
        result.save(folder, provenance(args))
        finish(folder, args)
    print(
        f"{'Surface searchlight' if on_surface else 'Searchlight'} maps written to "
        f"{folder.path}/ (max score {np.nanmax(result.results.scores):.3f})."
    )


def _mesh(text):
    """--mesh: an fsaverage name, or the subject's surfaces as four GIFTI files."""
    if text is None:
        return "fsaverage5"
    if text.startswith("fsaverage"):
        return text
    files = _existing(text.split(","), "--mesh")
    if len(files) != 4:
        raise UsageError(
            "--mesh: expected an fsaverage name or four GIFTI files separated by commas "
            f"(hemi-L white, hemi-L pial, hemi-R white, hemi-R pial), got {text!r}."
        )
    return {"left": tuple(files[:2]), "right": tuple(files[2:])}


def _roi(args):
    from ..fmri import roi_analysis
    from ..surface import roi_analysis as surface_roi_analysis

    patterns, on_surface = _pattern_files(args, "roi")
    atlas = _existing(args.atlas.split(",") if on_surface else [args.atlas], "--atlas")
    options = fit_options(args)
    features, table = load_features(args, args.features)
    cv, groups = fold_arguments(args, table)
    with output_folder(args, "roi") as folder:
        fit = dict(options=options, cv=cv, groups=groups)
        if on_surface:
            result = surface_roi_analysis(
                patterns, features, _surface_atlas(atlas), mesh=_mesh(args.mesh), **fit
            )
        else:
            result = roi_analysis(patterns[0], features, atlas[0], args.mask, **fit)
        result.parameters.update(provenance(args))
        result.save(folder)
        finish(folder, args)
    print(f"{len(result.labels)} region(s) written to {folder.path}/roi.tsv.")


def _surface_atlas(files):
    if len(files) != 2 or not all(Path(f).name.endswith((".annot", ".gii")) for f in files):
        raise UsageError(
            "--atlas: with GIFTI patterns, expected two surface atlases separated by a comma "
            "(FreeSurfer lh./rh. .annot files or hemi-L/hemi-R .label.gii files), got "
            f"{','.join(files)!r}."
        )
    return files


def register(commands):
    """Add the patterns, searchlight and roi commands."""
    patterns = new_command(
        commands,
        "patterns",
        _patterns,
        help="per-stimulus beta maps from BOLD runs and BIDS events (nilearn GLM)",
    )
    patterns.add_argument(
        "bold",
        nargs="+",
        metavar="BOLD",
        help="4D BOLD runs, or runs on the surface as hemi-L/hemi-R GIFTI pairs",
    )
    patterns.add_argument("--events", nargs="+", required=True, help="one events TSV per run")
    patterns.add_argument(
        "--t-r",
        type=float,
        default=None,
        help="repetition time in seconds (default: read from the images' headers, or the "
        "GIFTI runs' JSON sidecars)",
    )
    patterns.add_argument(
        "--method",
        default="lsa",
        choices=["lsa", "lss"],
        help="least-squares-all (one pattern per trial type and run) or least-squares-"
        "separate (one pattern per event)",
    )
    patterns.add_argument(
        "--mask", default=None, help="brain mask (default: one EPI mask computed from all runs)"
    )
    patterns.add_argument(
        "--confounds", nargs="+", default=None, help="one TSV of nuisance regressors per run"
    )
    _add_mesh_argument(patterns)
    add_output_arguments(patterns, report=False)

    searchlight = new_command(
        commands,
        "searchlight",
        _searchlight,
        help="MLEM in a sphere around every mask voxel (NIfTI), or in a disc along the cortex "
        "around every vertex (GIFTI)",
    )
    searchlight.add_argument(
        "patterns",
        nargs="+",
        help="4D image, one volume per stimulus; or two GIFTI files named hemi-L and hemi-R, "
        "one data array per stimulus",
    )
    _add_features_argument(searchlight)
    searchlight.add_argument("--mask", default=None, help="mask image (default: from the data)")
    searchlight.add_argument(
        "--radius", type=float, required=True, help="sphere (or disc along the cortex) radius, mm"
    )
    _add_mesh_argument(searchlight)
    searchlight.add_argument(
        "--background",
        default=None,
        help="image to draw maps on (default: mean_bold.nii.gz beside PATTERNS, as the "
        "patterns command writes it, else the mask)",
    )
    add_output_arguments(searchlight)
    add_fit_arguments(searchlight, precomputed=True)

    roi = new_command(
        commands,
        "roi",
        _roi,
        help="MLEM in every region of a label image or surface atlas; writes roi.tsv",
    )
    roi.add_argument(
        "patterns",
        nargs="+",
        help="4D image, one volume per stimulus; or two GIFTI files named hemi-L and hemi-R",
    )
    _add_features_argument(roi)
    roi.add_argument(
        "--atlas",
        required=True,
        help="label image (0 = background); with GIFTI patterns, two surface atlases "
        "LEFT,RIGHT (FreeSurfer .annot or .label.gii)",
    )
    roi.add_argument("--mask", default=None, help="restrict regions to this mask (NIfTI only)")
    _add_mesh_argument(roi)
    add_output_arguments(roi)
    add_fit_arguments(roi, precomputed=True)


def _add_mesh_argument(parser):
    parser.add_argument(
        "--mesh",
        default=None,
        help="GIFTI data only: its mesh, an fsaverage name (default fsaverage5, which "
        "ships with nilearn) or the subject's hemi-L white,pial,hemi-R white,pial GIFTI files",
    )


def _add_features_argument(parser):
    parser.add_argument(
        "--features",
        required=True,
        help="CSV/TSV of features: one row per volume, or, with --stimuli, one row per trial "
        "type (any column shared with --stimuli is the key)",
    )
    parser.add_argument(
        "--stimuli",
        default=None,
        help="TSV with one row per volume (the stimuli.tsv the patterns command writes), "
        "joined to --features; its columns (run...) can be --cv-groups",
    )
