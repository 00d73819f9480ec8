"""Seed files for the fuzz runner (tools/fuzz) that only Python can write: VSE++ vocabulary pickles.

VSE++ (github.com/fartashf/vsepp, vocab.py) builds a `Vocabulary` object (word2idx, idx2word,
idx) in the script's `__main__` and saves it with `pickle.dump(vocab, f, pickle.HIGHEST_PROTOCOL)`; on the Python 2
it ran on that is protocol 2 (protocols 0 and 4 are written too, for coverage). The class below reproduces that
object (same attributes, same `add_word`); the files hold a few dozen words only, to stay small.

Run with Debian's Python: /usr/bin/python3 tools/reference/fuzz_seeds.py tests/fixtures/fuzz
"""
import pickle
import sys
from pathlib import Path


class Vocabulary(object):
    """Simple vocabulary wrapper (VSE++ vocab.py)."""

    def __init__(self):
        self.word2idx = {}
        self.idx2word = {}
        self.idx = 0

    def add_word(self, word):
        if word not in self.word2idx:
            self.word2idx[word] = self.idx
            self.idx2word[self.idx] = word
            self.idx += 1


WORDS = ["<pad>", "<start>", "<end>", "<unk>", "a", "dog", "is", "running", "through", "the", "grass", ".",
         "two", "children", "play", "on", "beach", "man", "in", "red", "shirt", "climbs", "rock", "woman",
         "with", "black", "hat", "sits", "bench", "brown", "jumps", "over", "water", "girl", "pink", "dress"]


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = Vocabulary()
    for w in WORDS:
        vocab.add_word(w)
    # Pickle it as a __main__ object, as the original script did.
    Vocabulary.__module__ = "__main__"
    for protocol in (0, 2, 4):
        with open(out / f"vocab.p{protocol}.pkl", "wb") as f:
            pickle.dump(vocab, f, protocol)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/fuzz")
