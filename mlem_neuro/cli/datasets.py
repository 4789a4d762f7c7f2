"""The datasets command: the bundled recordings as files, to try every command on."""

from .arguments import new_command

__all__ = ["register"]


def _datasets(args):
    from ..datasets import write_eeg_sample, write_haxby

    writer = {"haxby": write_haxby, "eeg": write_eeg_sample}[args.name]
    path = writer(args.out, overwrite=args.overwrite)
    print(f"The {args.name} data are in {path}/ (see docs/cli.md for what to run on them).")


def register(commands):
    """Add the datasets command."""
    datasets = new_command(
        commands,
        "datasets",
        _datasets,
        help="write the bundled Haxby fMRI or MNE sample EEG data as ordinary files",
    )
    datasets.add_argument(
        "name",
        choices=["haxby", "eeg"],
        help="haxby: 12 BOLD runs, events, masks and the category features (categories.csv); "
        "eeg: sample-epo.fif with modality and side in its metadata",
    )
    datasets.add_argument("--out", required=True, help="folder to write (must be new or empty)")
    datasets.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
