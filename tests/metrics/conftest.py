"""Offline tokenizers for the metrics tests: a word-level one (one token per word) and a small byte-level BPE."""

from __future__ import annotations

import numpy as np
import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

EOS = "<|im_end|>"
SPECIALS = ["<unk>", "<|endoftext|>", EOS]
WORDS = """
a an the A The There there is are was on in with near and of to it It its this that yes no two three
cat cats dog dogs skateboard sitting sits lying standing man woman people person sofa couch table dining
tennis racket teddy bear hot hair drier motorbike television tv bike plane car bus truck bird horse next
small big red green white black wooden grass street room picture image photo shows holding playing
. , ! ? - ' 's 猫
""".split()


def _word_level() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(SPECIALS)}
    for w in WORDS:
        vocab.setdefault("\u2581" + w, len(vocab))
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Metaspace()
    tk.decoder = decoders.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=tk, eos_token=EOS, unk_token="<unk>", pad_token="<|endoftext|>")


_CORPUS = [
    "A cat is sitting on a table with a dog.",
    "A dog is lying on the grass next to a cat.",
    "The cat and the dog are on a red sofa.",
    "There is a man with a dog on the street.",
    "Two cats are sitting on a table. A dog is lying on the floor.",
    "A woman is holding a cat in the room.",
] * 20


def _byte_bpe() -> PreTrainedTokenizerFast:
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIALS[1:], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tk.train_from_iterator(_CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tk, eos_token=EOS, pad_token="<|endoftext|>")


@pytest.fixture(scope="session")
def word_tok() -> PreTrainedTokenizerFast:
    return _word_level()


@pytest.fixture(scope="session")
def bpe_tok() -> PreTrainedTokenizerFast:
    return _byte_bpe()


def encode(tok, text: str, eos: bool = True) -> list[int]:
    """Ids of ``text`` (no special tokens added) followed by the EOS."""
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id is None or tok.unk_token_id not in ids, f"unknown word in {text!r}"
    return ids + ([tok.eos_token_id] if eos else [])


def block(shape: tuple[int, int], rows: slice, cols: slice, fg: int = 200, bg: int = 0) -> np.ndarray:
    """A uint8 map of value ``bg`` with ``fg`` in ``[rows, cols]``."""
    m = np.full(shape, bg, np.uint8)
    m[rows, cols] = fg
    return m
