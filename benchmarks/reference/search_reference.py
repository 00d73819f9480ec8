#!/usr/bin/python3
"""Reference for the `search` benchmark: the generated gallery and queries that both sides read, the exact
top-k ground truth, and the same searches with FAISS (Debian's python3-faiss: IndexFlatIP, IndexHNSWFlat,
IndexScalarQuantizer + IndexRefineFlat) and hnswlib (python3-hnswlib). Every mode prints one JSON line last.

    search_reference.py generate DIR --n 1000000 --d 1024 --queries 1000 [--seed 7]
    search_reference.py truth DIR --n N [--k 100]
    search_reference.py flat DIR --threads T [--repeats R]
    search_reference.py sq8 DIR --threads T --k-factor 4
    search_reference.py hnsw DIR --lib faiss|hnswlib --n N --m 16 --efc 128 --efs 64,256 --threads T

The data (written once, read memory-mapped by both sides): embedding-like unit vectors of low intrinsic
dimension, x = normalise(A z + noise e) with A a fixed random [d x latent] matrix with N(0, 1/latent) entries,
z ~ N(0, I_latent), e ~ N(0, I_d) (so the latent part has unit variance per coordinate and the noise 0.3); queries
are perturbed gallery items, q = normalise(x_i + near / sqrt(d) g) (a caption near its image). Isotropic random
vectors would make the 10th and 11th neighbours indistinguishable and every approximate method look arbitrary.
"""
import argparse
import json
import os
import sys
import time

import numpy as np


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def rss_anon():
    """Anonymous resident memory of this process in bytes (index storage; not the memory-mapped gallery)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


def generate(a):
    meta = dict(n=a.n, d=a.d, queries=a.queries, latent=a.latent, noise=a.noise, near=a.near, seed=a.seed, version=1)
    os.makedirs(a.dir, exist_ok=True)
    meta_path = os.path.join(a.dir, "meta.json")
    if os.path.exists(meta_path) and json.load(open(meta_path)) == meta:
        log(f"{a.dir}: data already generated")
        print(json.dumps(dict(meta, generated=False)))
        return
    rng = np.random.default_rng(a.seed)
    mix = (rng.standard_normal((a.d, a.latent), dtype=np.float32) / np.sqrt(a.latent)).astype(np.float32)
    gallery = np.lib.format.open_memmap(os.path.join(a.dir, "gallery.npy.tmp"), mode="w+", dtype=np.float32, shape=(a.n, a.d))
    start = time.perf_counter()
    chunk = 65536
    for s in range(0, a.n, chunk):
        c = min(chunk, a.n - s)
        z = rng.standard_normal((c, a.latent), dtype=np.float32)
        x = z @ mix.T
        x += a.noise * rng.standard_normal((c, a.d), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        gallery[s:s + c] = x
        log(f"generate: {s + c}/{a.n} rows ({time.perf_counter() - start:.0f} s)")
    gallery.flush()
    ids = rng.integers(0, a.n, a.queries)
    q = gallery[ids].astype(np.float32) + (a.near / np.sqrt(a.d)) * rng.standard_normal((a.queries, a.d), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    del gallery
    np.save(os.path.join(a.dir, "queries.npy"), q.astype(np.float32))
    os.replace(os.path.join(a.dir, "gallery.npy.tmp"), os.path.join(a.dir, "gallery.npy"))
    json.dump(meta, open(meta_path, "w"))
    print(json.dumps(dict(meta, generated=True, seconds=time.perf_counter() - start)))


def load(a, n=None):
    gallery = np.load(os.path.join(a.dir, "gallery.npy"), mmap_mode="r")
    queries = np.load(os.path.join(a.dir, "queries.npy"))
    if n is not None:
        gallery = gallery[:n]
    return gallery, queries


def truth(a):
    import faiss
    gallery, queries = load(a, a.n)
    index = faiss.IndexFlatIP(gallery.shape[1])
    for s in range(0, gallery.shape[0], 65536):
        index.add(np.ascontiguousarray(gallery[s:s + 65536]))
    start = time.perf_counter()
    _, ids = index.search(queries, a.k)
    np.save(os.path.join(a.dir, f"truth_{a.n}.npy"), ids.astype(np.int64))
    print(json.dumps(dict(n=a.n, k=a.k, seconds=time.perf_counter() - start)))


def best_of(fn, repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def single_queries(search, queries, repeats):
    """Best time of one single-query search, over queries 0 .. repeats-1 (after one warm-up)."""
    search(queries[0:1])
    best = float("inf")
    for i in range(repeats):
        start = time.perf_counter()
        search(queries[i:i + 1])
        best = min(best, time.perf_counter() - start)
    return best


def recall(ids, truth_ids, k=10):
    found = sum(len(set(r[:k]) & set(t[:k])) for r, t in zip(ids, truth_ids))
    return found / (len(ids) * k)


def flat(a):
    import faiss
    faiss.omp_set_num_threads(a.threads)
    gallery, queries = load(a)
    index = faiss.IndexFlatIP(gallery.shape[1])
    # One add of the whole memory-mapped gallery (C-contiguous: no copy): FAISS sizes its storage once, 4.1 GB.
    # Adding in 64K-row pieces grew its vector by doubling and peaked at 7.7 GB, which the out-of-memory killer
    # ended on the shared machine while our side held its own 4.1 GB copy.
    index.add(np.ascontiguousarray(gallery))
    one = single_queries(lambda q: index.search(q, 10), queries, a.repeats)
    batch = queries[:256]
    many = best_of(lambda: index.search(batch, 10), max(1, a.repeats // 4))
    _, ids = index.search(queries[:8], 10)
    print(json.dumps(dict(threads=a.threads, qps_1=1 / one, qps_256=256 / many, seconds_1=one, seconds_256=many,
                          ids=ids.tolist(), faiss=faiss.__version__)))


def sq8(a):
    import faiss
    faiss.omp_set_num_threads(a.threads)
    gallery, queries = load(a)
    d = gallery.shape[1]
    truth_ids = np.load(os.path.join(a.dir, f"truth_{gallery.shape[0]}.npy"))
    before = rss_anon()
    start = time.perf_counter()
    sq = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    sq.train(np.ascontiguousarray(gallery[:100000]))
    index = faiss.IndexRefineFlat(sq)
    index.k_factor = a.k_factor
    for s in range(0, gallery.shape[0], 65536):
        index.add(np.ascontiguousarray(gallery[s:s + 65536]))
    build = time.perf_counter() - start
    codes = sq.sa_code_size() * sq.ntotal
    one = single_queries(lambda q: index.search(q, 10), queries, a.repeats)
    # One batch of 256, timed once (Debian's FAISS is a generic, non-SIMD build: its SQ8 scan of 256 queries
    # takes minutes), and the recall of that batch.
    start = time.perf_counter()
    _, ids = index.search(queries[:256], 10)
    many = time.perf_counter() - start
    print(json.dumps(dict(threads=a.threads, k_factor=a.k_factor, build_s=build, code_bytes=codes,
                          memory_bytes=rss_anon() - before, qps_1=1 / one, qps_256=256 / many,
                          recall_256=recall(ids, truth_ids[:256]))))


def hnsw(a):
    gallery, queries = load(a, a.n)
    truth_ids = np.load(os.path.join(a.dir, f"truth_{a.n}.npy"))
    d = gallery.shape[1]
    before = rss_anon()
    start = time.perf_counter()
    if a.lib == "faiss":
        import faiss
        faiss.omp_set_num_threads(a.threads)
        index = faiss.IndexHNSWFlat(d, a.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = a.efc
        for s in range(0, gallery.shape[0], 65536):
            index.add(np.ascontiguousarray(gallery[s:s + 65536]))
            log(f"faiss hnsw: {s + 65536} added ({time.perf_counter() - start:.0f} s)")

        def search(q, ef):
            index.hnsw.efSearch = ef
            return index.search(q, 10)[1]
        version = faiss.__version__
    else:
        import hnswlib
        index = hnswlib.Index(space="ip", dim=d)
        index.init_index(max_elements=gallery.shape[0], M=a.m, ef_construction=a.efc, random_seed=100)
        for s in range(0, gallery.shape[0], 65536):
            part = np.ascontiguousarray(gallery[s:s + 65536])
            index.add_items(part, np.arange(s, s + part.shape[0]), num_threads=a.threads)
            log(f"hnswlib: {s + part.shape[0]} added ({time.perf_counter() - start:.0f} s)")

        def search(q, ef):
            index.set_ef(ef)
            return index.knn_query(q, k=10, num_threads=a.threads)[0]
        version = "0.6.2"
    build = time.perf_counter() - start
    memory = rss_anon() - before
    results = []
    for ef in [int(e) for e in a.efs.split(",")]:
        ids = search(queries, ef)
        seconds = best_of(lambda: search(queries, ef), a.repeats)
        one = single_queries(lambda q: search(q, ef), queries, 50)
        results.append(dict(ef=ef, recall=recall(ids, truth_ids), qps=len(queries) / seconds, qps_1=1 / one))
    print(json.dumps(dict(lib=a.lib, version=version, n=gallery.shape[0], m=a.m, efc=a.efc, threads=a.threads,
                          build_s=build, memory_bytes=memory, results=results)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["generate", "truth", "flat", "sq8", "hnsw"])
    p.add_argument("dir")
    p.add_argument("--n", type=int, default=1000000)
    p.add_argument("--d", type=int, default=1024)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--latent", type=int, default=64)
    p.add_argument("--noise", type=float, default=0.3)
    p.add_argument("--near", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=8)
    p.add_argument("--k-factor", type=int, default=4)
    p.add_argument("--lib", choices=["faiss", "hnswlib"], default="faiss")
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--efc", type=int, default=128)
    p.add_argument("--efs", default="64,256")
    a = p.parse_args()
    dict(generate=generate, truth=truth, flat=flat, sq8=sq8, hnsw=hnsw)[a.mode](a)


if __name__ == "__main__":
    main()
