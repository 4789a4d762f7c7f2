"""Language-model command: layers."""

from pathlib import Path

from .arguments import (
    UsageError,
    add_fit_arguments,
    add_output_arguments,
    feature_table,
    fit_options,
    fold_arguments,
    new_command,
    output_folder,
    provenance,
    read_table,
)
from .reporting import finish

__all__ = ["register"]


def _features(args, table):
    if args.sentence_column not in table.columns:
        raise UsageError(
            f"--sentence-column {args.sentence_column!r} is not a column of the stimuli table "
            f"(columns: {list(table.columns)})."
        )
    if not args.features:
        excluded = [args.sentence_column, args.word_column]
        return feature_table(args, table, exclude=[column for column in excluded if column])
    names = [name.strip() for name in args.features.split(",") if name.strip()]
    unknown = [name for name in names if name not in table.columns]
    if unknown:
        raise UsageError(
            f"--features {unknown} are not columns of the stimuli table "
            f"(columns: {list(table.columns)})."
        )
    return table[names]


def _layers(args):
    from ..llm import hidden_states, layer_profile, load_local_model

    options = fit_options(args)
    table = read_table(args.stimuli, "--stimuli")
    features = _features(args, table)
    cv, groups = fold_arguments(args, table, source="the stimuli table")
    if args.word_column and args.word_column not in table.columns:
        raise UsageError(
            f"--word-column {args.word_column!r} is not a column of the stimuli table."
        )
    with output_folder(args, "layers") as folder:
        model, tokenizer = load_local_model(args.model_dir, verbose=not args.quiet)
        states = hidden_states(
            model,
            tokenizer,
            table[args.sentence_column].tolist(),
            pooling=args.pooling,
            words=table[args.word_column].tolist() if args.word_column else None,
            batch_size=args.batch_size,
            device=options.device,
            verbose=not args.quiet,
        )
        profile = layer_profile(
            features,
            states,
            cv=cv,
            groups=groups,
            options=options,
            checkpoint=folder.checkpoint_path,
        )
        profile.parameters.update(
            model_dir=str(args.model_dir), pooling=args.pooling, **provenance(args)
        )
        profile.save(folder, title=Path(args.model_dir).name)
        finish(folder, args)
    table = profile.to_dataframe()
    best = table.loc[table["score"].idxmax(), "layer"]
    print(f"Layer profile written to {folder.path}/ (best layer {best}).")


def register(commands):
    """Add the layers command."""
    layers = new_command(
        commands,
        "layers",
        _layers,
        help="MLEM on every layer of a local language model; writes layers.tsv",
    )
    layers.add_argument("model_dir", help="local Hugging Face model folder")
    layers.add_argument("--stimuli", required=True, help="CSV/TSV: sentences and features")
    layers.add_argument("--sentence-column", default="sentence", help="column of the sentences")
    layers.add_argument(
        "--features", default=None, help="COL[,COL...] (default: every other column)"
    )
    layers.add_argument(
        "--pooling",
        default="mean",
        choices=["mean", "first", "last", "word"],
        help="how a sentence's token states become one vector per layer",
    )
    layers.add_argument("--word-column", default=None, help="column of words for word pooling")
    layers.add_argument("--batch-size", type=int, default=32, help="sentences per forward pass")
    add_output_arguments(layers)
    add_fit_arguments(layers)
