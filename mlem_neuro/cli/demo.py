"""The demo command: MLEM on the bundled real data."""

from .arguments import new_command

__all__ = ["register"]


def _demo(args):
    from ..demo import run_demo

    outputs = run_demo(
        args.out,
        device=args.device,
        random_state=args.seed,
        verbose=not args.quiet,
        overwrite=args.overwrite,
        report=not args.no_report,
    )
    table = outputs["eeg"]
    peak = table["score"].idxmax()
    print(
        f"EEG: peak held-out score {table['score'][peak]:.3f} at "
        f"{table['time'][peak] * 1000:.0f} ms ({args.out}/eeg/)."
    )
    roi = outputs["fmri"].iloc[0]
    print(
        f"fMRI: best searchlight score {outputs['fmri_max_score']:.3f}; ventral temporal ROI "
        f"score {roi['score']:.3f} ({args.out}/fmri/)."
    )
    profile = outputs["llm"]
    best = profile.loc[profile["score"].idxmax()]
    print(
        f"Language model: best layer {int(best['layer'])} (held-out score {best['score']:.3f}); "
        f"importance of the random control feature at most "
        f"{profile['importance_random'].max():.3f} ({args.out}/llm/)."
    )
    print(f"Reports: {args.out}/eeg/report.html, fmri/report.html, llm/report.html.")


def register(commands):
    """Add the demo command."""
    demo = new_command(
        commands,
        "demo",
        _demo,
        help="MLEM on bundled real data: EEG time course, fMRI searchlight and ROI, MiniLM layers",
    )
    demo.add_argument("--out", default="mlem_neuro_output/demo", help="output folder")
    demo.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    demo.add_argument("--no-report", action="store_true", help="do not write report.html files")
    demo.add_argument("--device", default="cpu", help="'cpu', 'cuda' or 'cuda:N'")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
