"""Per-layer sentence representations from a Hugging Face transformers model."""

import re
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..core import check_device, check_option, check_positive_int

__all__ = ["hidden_states", "load_local_model", "POOLINGS"]

POOLINGS = ("mean", "first", "last", "word")
IN_MEMORY_BYTES = 4 << 30


def load_local_model(model_dir, verbose=False):
    """Load a model and its tokenizer from a local folder, never from the network.

    Parameters
    ----------
    model_dir : str or Path
        Folder with ``config.json``, the weights and the tokenizer files.
    verbose : bool
        Show transformers' progress bar while the weights load.

    Returns
    -------
    model : transformers.PreTrainedModel
        In evaluation mode.
    tokenizer : transformers.PreTrainedTokenizerBase
    """
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    path = Path(model_dir)
    if not (path / "config.json").exists():
        raise FileNotFoundError(
            f"model_dir must be a local model folder with a config.json, got {path}."
        )
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    bars_were_on = transformers_logging.is_progress_bar_enabled()
    if not verbose:
        transformers_logging.disable_progress_bar()
    try:
        model = AutoModel.from_pretrained(path, local_files_only=True)
    finally:
        if bars_were_on:
            transformers_logging.enable_progress_bar()
    return model.eval(), tokenizer


def _check_sentences(sentences):
    if isinstance(sentences, str):
        raise TypeError("sentences must be a list of strings, not a single string.")
    sentences = [str(sentence) for sentence in sentences]
    if not sentences:
        raise ValueError("sentences is empty.")
    empty = [index for index, sentence in enumerate(sentences) if not sentence.strip()]
    if empty:
        raise ValueError(f"Sentences {empty[:10]} are empty; every sentence needs text.")
    return sentences


def _word_spans(sentences, words):
    """Character span of each sentence's word (first whole-word occurrence)."""
    if isinstance(words, str):
        words = [words] * len(sentences)
    words = list(words)
    if len(words) != len(sentences):
        raise ValueError(f"words has {len(words)} entries for {len(sentences)} sentences.")
    spans = []
    for index, (sentence, word) in enumerate(zip(sentences, words)):
        match = re.search(rf"(?<!\w){re.escape(str(word))}(?!\w)", sentence)
        if match is None:
            raise ValueError(
                f"Word {word!r} does not occur in sentence {index} ({sentence!r}); word pooling "
                "needs the word in every sentence."
            )
        spans.append(match.span())
    return spans


def _token_weights(batch, pooling, spans):
    """Weight of each token in the pooled representation, shape (batch, n_tokens)."""
    attention = batch["attention_mask"].bool()
    real = attention & ~batch["special_tokens_mask"].bool()
    if not real.any(dim=1).all():
        raise ValueError("A sentence has no token besides special tokens after tokenisation.")
    if pooling == "mean":
        chosen = real
    elif pooling in ("first", "last"):
        # Padding may sit on either side: locate real tokens through the mask.
        positions = torch.arange(real.shape[1]).expand_as(real)
        masked = torch.where(real, positions, -1 if pooling == "last" else real.shape[1])
        index = masked.max(dim=1).values if pooling == "last" else masked.min(dim=1).values
        chosen = positions == index[:, None]
    else:
        offsets = batch["offset_mapping"]
        starts = torch.tensor([span[0] for span in spans])[:, None]
        ends = torch.tensor([span[1] for span in spans])[:, None]
        chosen = real & (offsets[..., 0] < ends) & (offsets[..., 1] > starts)
        if not chosen.any(dim=1).all():
            raise ValueError("A word matched no token; check the tokenizer's offsets.")
    weights = chosen.float()
    return weights / weights.sum(dim=1, keepdim=True)


def _tokenized(tokenizer, sentences, max_length, offsets):
    """A batch padded on the right, whatever the tokenizer's padding side.

    With padding after the real tokens, every model builds the position ids
    of a sentence as it would for the sentence alone (from 0, from
    ``padding_idx + 1`` for RoBERTa-family models, from the attention mask
    for others), and causal attention never sees the padding: the model
    computes positions its own way, and the states of the real tokens do not
    depend on the padding or the batch.
    """
    side = tokenizer.padding_side
    tokenizer.padding_side = "right"
    try:
        return tokenizer(
            sentences,
            padding=True,
            truncation=max_length is not None,
            max_length=max_length,
            return_tensors="pt",
            return_special_tokens_mask=True,
            return_offsets_mapping=offsets,
        )
    finally:
        tokenizer.padding_side = side


def hidden_states(
    model,
    tokenizer,
    sentences,
    pooling="mean",
    layers=None,
    batch_size=32,
    device="cpu",
    words=None,
    out=None,
    max_length=None,
    verbose=False,
):
    """Pooled hidden states of every layer for every sentence.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any encoder or decoder already loaded (see :func:`load_local_model`).
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer, with a padding token (for decoders without one, set
        ``tokenizer.pad_token = tokenizer.eos_token``). Batches are padded
        on the right whatever its ``padding_side``, and the model builds its
        own position ids: the states equal those of each sentence alone.
    sentences : list of str
    pooling : {"mean", "first", "last", "word"}
        - "mean": average over the sentence's tokens, special tokens
          ([CLS], [SEP], <s>...) and padding excluded;
        - "first" / "last": the first / last token that is neither special
          nor padding (padding on the left or the right);
        - "word": average over the tokens of ``words`` (first whole-word
          occurrence in each sentence; needs a fast tokenizer).
    layers : list of int, optional
        Indices into the model's hidden states (0 = embeddings, ``i`` =
        output of layer ``i``); default all of them.
    batch_size : int
    device : str
    words : str or list of str, optional
        For ``pooling="word"``: one word for all sentences, or one per sentence.
    out : str or Path, optional
        Write the array to this ``.npy`` file as it is filled (memory-mapped),
        so it need not fit in memory. Required when the array would exceed
        4 GiB.
    max_length : int, optional
        Truncate longer sentences to this many tokens.
    verbose : bool
        Show a progress bar.

    Returns
    -------
    array of shape (n_layers, n_sentences, hidden), float32
        ``n_layers`` is the number of hidden states kept (embeddings plus
        every layer by default). A ``numpy.memmap`` when ``out`` is given.
    """
    check_option("pooling", pooling, POOLINGS)
    sentences = _check_sentences(sentences)
    batch_size = check_positive_int("batch_size", batch_size)
    device = check_device(device)
    if tokenizer.pad_token is None:
        raise ValueError(
            "The tokenizer has no padding token, which batching needs; set one, e.g. "
            "tokenizer.pad_token = tokenizer.eos_token."
        )
    if pooling == "word":
        if words is None:
            raise ValueError("pooling='word' needs words (one word, or one per sentence).")
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError("pooling='word' needs a fast tokenizer (character offsets).")
        spans = _word_spans(sentences, words)
    else:
        spans = None
    n_states = model.config.num_hidden_layers + 1
    layers = list(range(n_states)) if layers is None else [int(layer) for layer in layers]
    bad = [layer for layer in layers if not -n_states <= layer < n_states]
    if bad:
        raise ValueError(f"layers {bad} do not exist: the model has {n_states} hidden states.")
    shape = (len(layers), len(sentences), model.config.hidden_size)
    size = int(np.prod(shape)) * 4
    if out is None and size > IN_MEMORY_BYTES:
        raise MemoryError(
            f"The hidden states would take {size / 2**30:.1f} GiB; give out='states.npy' to "
            "stream them to disk."
        )
    if out is not None:
        states = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=shape)
    else:
        states = np.empty(shape, dtype=np.float32)
    model = model.to(device).eval()
    starts = range(0, len(sentences), batch_size)
    for start in tqdm(starts, desc="Sentences", disable=not verbose, unit="batch"):
        chunk = sentences[start : start + batch_size]
        batch = _tokenized(tokenizer, chunk, max_length, pooling == "word")
        weights = _token_weights(
            batch, pooling, spans[start : start + batch_size] if spans else None
        )
        inputs = {
            key: value.to(device)
            for key, value in batch.items()
            if key not in ("special_tokens_mask", "offset_mapping")
        }
        with torch.no_grad():
            output = model(**inputs, output_hidden_states=True)
        weights = weights.to(device)
        for row, layer in enumerate(layers):
            pooled = torch.einsum("bt,bth->bh", weights, output.hidden_states[layer].float())
            states[row, start : start + len(chunk)] = pooled.cpu().numpy()
    if out is not None:
        states.flush()
    return states
