"""Group command: one-sample tests across subjects' result folders."""

import numpy as np

from .arguments import add_output_arguments, new_command, output_folder, provenance
from .reporting import finish

__all__ = ["register"]


def _group(args):
    from ..stats import group_test

    with output_folder(args, "group") as folder:
        test = group_test(
            args.results,
            args.measure,
            n_permutations=args.n_permutations,
            tfce=args.tfce,
            cluster_threshold=args.cluster_threshold,
            radius=None if args.radius is None else args.radius / 1000,
            baseline=args.baseline,
            random_state=args.seed,
        )
        test.save(folder, parameters=provenance(args))
        finish(folder, args)
    print(
        f"Group {test.kind} test of {test.measure} written to {folder.path}/ ({_headline(test)})."
    )


def _headline(test):
    outcome = test.outcome
    if test.kind in ("searchlight", "surface_searchlight"):
        best = ", ".join(f"{name} {_largest(img):.2f}" for name, img in outcome.logp_imgs.items())
        return f"max -log10 p: {best}"
    if test.kind == "timecourse":
        significant = int((outcome.clusters["pvalue"] < 0.05).sum())
        return f"{len(outcome.clusters)} cluster(s), {significant} with p < 0.05"
    significant = int((outcome["pvalue_fwer"] < 0.05).sum())
    labels = "regions" if test.kind == "roi" else "layers"
    return f"{significant} of {len(outcome)} {labels} with FWER p < 0.05"


def _largest(img):
    """Largest value of a volume or surface map."""
    if hasattr(img, "get_fdata"):
        return float(np.nanmax(img.get_fdata()))
    return max(float(np.nanmax(part)) for part in img.data.parts.values())


def register(commands):
    """Add the group command."""
    group = new_command(
        commands,
        "group",
        _group,
        help="one-sample permutation tests across subjects' results (maps, time courses, layers)",
    )
    group.add_argument(
        "results",
        nargs="+",
        help="result folders of searchlight (volume or surface), timecourse, layers or roi",
    )
    group.add_argument(
        "--measure",
        default="score",
        help="score, importance_<term>, or weight_<term> with --baseline",
    )
    group.add_argument(
        "--baseline",
        type=float,
        default=None,
        help="value the mean is tested against (default 0; needed for weight_<term>)",
    )
    group.add_argument("--n-permutations", type=int, default=5000, help="random sign flips")
    group.add_argument("--tfce", action="store_true", help="maps: also TFCE")
    group.add_argument(
        "--cluster-threshold", type=float, default=0.001, help="maps: cluster-forming p-value"
    )
    group.add_argument(
        "--radius",
        type=float,
        default=None,
        help="sensor x time: neighbour radius in mm (default: MNE's channel adjacency)",
    )
    group.add_argument("--seed", type=int, default=0, help="random seed")
    add_output_arguments(group)
