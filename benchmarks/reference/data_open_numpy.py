"""Reference for the `data-open` benchmark: opening a SCAN precomp split the way the originals' PrecompDataset
does. "minimal": np.load(..._ims.npy, mmap_mode='r') and reading the captions (SCAN keeps the features as a numpy
array; VSE++ reads them fully - here memory-mapped, the cheaper choice). "full" adds what our Open also does:
a finite check of all features (np.isfinite(...).all(), reading every page) and tokenizing + encoding every caption
(strip, lower, NLTK word_tokenize with untrained Punkt, vocabulary lookup) - the originals do that lazily, once
per caption per epoch. Prints one JSON line with the best of REPEATS runs of each.
Usage: python3 data_open_numpy.py DATA_DIR SPLIT VOCAB_JSON [REPEATS]"""
import json
import os
import sys
import time

import numpy as np
from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer

data, split, vocab_path = sys.argv[1], sys.argv[2], sys.argv[3]
repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 5
vocab = json.load(open(vocab_path))['word2idx']
punkt, words = PunktSentenceTokenizer(), NLTKWordTokenizer()


def open_minimal():
    ims = np.load(os.path.join(data, f'{split}_ims.npy'), mmap_mode='r')
    with open(os.path.join(data, f'{split}_caps.txt'), 'rb') as f:
        captions = [line.strip() for line in f]
    return ims, captions


def open_full():
    ims, captions = open_minimal()
    if not np.isfinite(ims).all():
        raise ValueError('non-finite features')
    encoded = []
    for c in captions:
        text = c.decode('utf-8').lower()
        encoded.append([1] + [vocab.get(t, 3) for s in punkt.tokenize(text) for t in words.tokenize(s)] + [2])
    return ims, encoded


def best_of(fn):
    fn()
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        ims, caps = fn()
        best = min(best, time.perf_counter() - start)
        del ims, caps
    return best


minimal = best_of(open_minimal)
full = best_of(open_full)
ims, caps = open_minimal()
print(json.dumps({'minimal_s': minimal, 'full_s': full, 'images': int(ims.shape[0]), 'captions': len(caps),
                  'bytes': os.path.getsize(os.path.join(data, f'{split}_ims.npy'))}))
