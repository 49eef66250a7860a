"""A tiny Whisper built here: random weights in the CTranslate2 format, a local tokenizer.

It has Whisper's layout (80 mel bins, 1500 encoder positions, 448 decoder positions) at toy
sizes (2 layers, width 64, 4 heads) and Whisper's multilingual vocabulary layout: 50257 text
tokens, then <|endoftext|>, <|startoftranscript|>, 99 language tokens, the task and marker
tokens and 1501 timestamp tokens, so faster-whisper's tokenizer, prompts and timestamp
handling run unchanged. Nothing is downloaded: the weights are numpy random arrays and the
tokenizer is built with the `tokenizers` library. What it "hears" is gibberish, which is all
the real code path needs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from ctranslate2.specs import whisper_spec
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

LANGUAGES = [
    "en",
    "zh",
    "de",
    "es",
    "ru",
    "ko",
    "fr",
    "ja",
    "pt",
    "tr",
    "pl",
    "ca",
    "nl",
    "ar",
    "sv",
    "it",
    "id",
    "hi",
    "fi",
    "vi",
    "he",
    "uk",
    "el",
    "ms",
    "cs",
    "ro",
    "da",
    "hu",
    "ta",
    "no",
    "th",
    "ur",
    "hr",
    "bg",
    "lt",
    "la",
    "mi",
    "ml",
    "cy",
    "sk",
    "te",
    "fa",
    "lv",
    "bn",
    "sr",
    "az",
    "sl",
    "kn",
    "et",
    "mk",
    "br",
    "eu",
    "is",
    "hy",
    "ne",
    "mn",
    "bs",
    "kk",
    "sq",
    "sw",
    "gl",
    "mr",
    "pa",
    "si",
    "km",
    "sn",
    "yo",
    "so",
    "af",
    "oc",
    "ka",
    "be",
    "tg",
    "sd",
    "gu",
    "am",
    "yi",
    "lo",
    "uz",
    "fo",
    "ht",
    "ps",
    "tk",
    "nn",
    "mt",
    "sa",
    "lb",
    "my",
    "bo",
    "tl",
    "mg",
    "as",
    "tt",
    "haw",
    "ln",
    "ha",
    "ba",
    "jw",
    "su",
]
TEXT_TOKENS = 50257
MARKERS = (
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
)
TIMESTAMPS = 1501
WIDTH, HEADS, LAYERS, FEED_FORWARD, MELS = 64, 4, 2, 128, 80


def _text_tokens() -> list[str]:
    """The byte-level alphabet, then made-up letter tokens up to Whisper's text vocabulary."""
    tokens = sorted(pre_tokenizers.ByteLevel.alphabet())
    seen = set(tokens)
    letters = "abcdefghijklmnopqrstuvwxyz"
    index = 0
    while len(tokens) < TEXT_TOKENS:
        word, n = "", index
        while True:
            word = letters[n % 26] + word
            n //= 26
            if n == 0:
                break
        token = f"Ġ{word}" if index % 2 == 0 else f"{word}x"
        if token not in seen:
            tokens.append(token)
            seen.add(token)
        index += 1
    return tokens


def special_tokens() -> list[str]:
    """Whisper's special tokens in its order, timestamps last."""
    stamps = [f"<|{i * 0.02:.2f}|>" for i in range(TIMESTAMPS)]
    languages = [f"<|{code}|>" for code in LANGUAGES]
    return ["<|endoftext|>", "<|startoftranscript|>", *languages, *MARKERS, *stamps]


def build_tiny_whisper(folder: Path, seed: int = 0) -> Path:
    """Write the model, tokenizer.json and preprocessor_config.json into `folder`."""
    rng = np.random.default_rng(seed)
    text = _text_tokens()
    special = special_tokens()
    # CTranslate2 releases tell a multilingual Whisper by its vocabulary: older ones by its
    # size (at least 51865), newer ones by an empty entry. One trailing "" satisfies both; as
    # an id after the last timestamp it is never a prompt and decodes to nothing.
    vocabulary = [*text, *special, ""]

    def weights(*shape: int) -> np.ndarray:
        scale = 1.0 / math.sqrt(shape[-1])
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def zeros(size: int) -> np.ndarray:
        return np.zeros(size, np.float32)

    def norm(spec: object) -> None:
        spec.gamma = np.ones(WIDTH, np.float32)  # type: ignore[attr-defined]
        spec.beta = zeros(WIDTH)  # type: ignore[attr-defined]

    def linear(spec: object, outputs: int, inputs: int) -> None:
        spec.weight = weights(outputs, inputs)  # type: ignore[attr-defined]
        spec.bias = zeros(outputs)  # type: ignore[attr-defined]

    spec = whisper_spec.WhisperSpec(LAYERS, HEADS, LAYERS, HEADS)
    encoder = spec.encoder
    encoder.conv1.weight = weights(WIDTH, MELS, 3)
    encoder.conv1.bias = zeros(WIDTH)
    encoder.conv2.weight = weights(WIDTH, WIDTH, 3)
    encoder.conv2.bias = zeros(WIDTH)
    encoder.position_encodings.encodings = weights(1500, WIDTH)
    norm(encoder.layer_norm)
    for layer in encoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * WIDTH, WIDTH)
        linear(layer.self_attention.linear[1], WIDTH, WIDTH)
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, FEED_FORWARD, WIDTH)
        linear(layer.ffn.linear_1, WIDTH, FEED_FORWARD)
    decoder = spec.decoder
    decoder.embeddings.weight = weights(len(vocabulary), WIDTH)
    decoder.projection.weight = decoder.embeddings.weight  # tied, as in Whisper
    decoder.position_encodings.encodings = weights(448, WIDTH)
    norm(decoder.layer_norm)
    for layer in decoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * WIDTH, WIDTH)
        linear(layer.self_attention.linear[1], WIDTH, WIDTH)
        norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], WIDTH, WIDTH)
        linear(layer.attention.linear[1], 2 * WIDTH, WIDTH)
        linear(layer.attention.linear[2], WIDTH, WIDTH)
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, FEED_FORWARD, WIDTH)
        linear(layer.ffn.linear_1, WIDTH, FEED_FORWARD)
    config = spec.config
    config.suppress_ids = []
    config.suppress_ids_begin = [220, TEXT_TOKENS]
    config.lang_ids = [TEXT_TOKENS + 2 + i for i in range(len(LANGUAGES))]
    config.alignment_heads = [(LAYERS - 1, head) for head in range(HEADS)]
    spec.register_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization=None)
    folder.mkdir(parents=True, exist_ok=True)
    spec.save(str(folder))

    tokenizer = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(text)}, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(token, special=True) for token in special])
    tokenizer.save(str(folder / "tokenizer.json"))
    preprocessor = {
        "feature_size": MELS,
        "sampling_rate": 16000,
        "hop_length": 160,
        "chunk_length": 30,
        "n_fft": 400,
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    return folder
