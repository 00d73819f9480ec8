"""Reference for the `tokenize` benchmark: NLTK's word_tokenize on the same captions, as the originals call it
(caption.strip().lower(), then word_tokenize). word_tokenize needs the trained 'punkt' model, which is a download
(nltk.download) and is not installed here, so this uses what word_tokenize does internally with untrained Punkt
parameters - PunktSentenceTokenizer() followed by NLTKWordTokenizer - which is the setup of the golden files and
gives the same tokens on captions. Prints one JSON line: captions, tokens, seconds, captions_per_s.
Usage: python3 tokenize_nltk.py CAPTIONS_FILE [LIMIT] [REPEATS]"""
import json
import sys
import time

import nltk
from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer

path = sys.argv[1]
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 0
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
with open(path, 'rb') as f:
    captions = [line.decode('utf-8') for line in f]
if limit:
    captions = captions[:limit]

try:
    nltk.word_tokenize('a test .')
    trained_punkt = True
except LookupError:
    trained_punkt = False

punkt = PunktSentenceTokenizer()
words = NLTKWordTokenizer()


def word_tokenize(text):
    return [t for s in punkt.tokenize(text) for t in words.tokenize(s)]


best = float('inf')
tokens = 0
for _ in range(repeats):
    start = time.perf_counter()
    tokens = 0
    for c in captions:
        tokens += len(word_tokenize(c.strip().lower()))
    best = min(best, time.perf_counter() - start)
print(json.dumps({'captions': len(captions), 'tokens': tokens, 'seconds': best, 'captions_per_s': len(captions) / best,
                  'nltk': nltk.__version__, 'trained_punkt_available': trained_punkt}))
