using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Text.Json;
using CrossModal.Search;
using CrossModal.Search.Exact;
using CrossModal.Search.Hnsw;
using CrossModal.Search.Quantized;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// Gallery search over 1,000,000 x 1,024 generated float32 unit vectors (benchmarks/reference/search_reference.py
/// writes gallery.npy, queries.npy and the FAISS exact top-100 once into --search-dir, default
/// /tmp/crossmodal-search, 4.1 GB; both sides memory-map the same files). Cases, each next to the reference in the
/// same run:
/// <list type="bullet">
/// <item>bandwidth: a streaming read of the whole gallery (GB/s); queries/s at bandwidth = GB/s / gallery size,
/// the ceiling of any exact single-query scan.</item>
/// <item>exact top-10, batches of 1 and 256 queries: ExactIndex vs FAISS IndexFlatIP, same thread counts.</item>
/// <item>int8 (re-scoring factors, --int8-factors 2,4,8): queries/s, recall@10 against the exact top 10, memory;
/// next to FAISS IndexScalarQuantizer(QT_8bit) + IndexRefineFlat with the same k_factor.</item>
/// <item>hnsw at --hnsw-n (default 100000; 1000000 for the full gallery): build time, recall@10 and queries/s
/// at each efSearch (--efs 64,256) with M (--m 16) and efConstruction (--efc 128), USearch (our HnswIndex) next
/// to FAISS IndexHNSWFlat and hnswlib, all with the largest thread count.</item>
/// </list>
/// --search-cases exact,int8,hnsw picks cases; --crossover also times the scan and the GEMM path at batches of
/// 1 to 16 queries (how ExactIndex.ScanMaxQueries was chosen). Every line carries the CPU model and the load.
/// </summary>
internal static class SearchSuite
{
    private const int K = 10;

    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        string dir = ctx.Option("--search-dir") ?? "/tmp/crossmodal-search";
        var cases = (ctx.Option("--search-cases") ?? "exact,int8,hnsw").Split(',');
        string? problem = Prepare(dir);
        if (problem is not null)
        {
            Console.Error.WriteLine($"search: skipped: {problem}");
            yield break;
        }
        string galleryPath = Path.Combine(dir, "gallery.npy");
        var queries = Npy.ReadFloat32(Path.Combine(dir, "queries.npy")).Data.ToArray();
        int keepThreads = Parallelism.Threads;
        Console.Error.WriteLine($"search: {Cpu}; kernels: float scan {DotScan.KernelName}, gemm {Gemm.KernelName}, int8 {Int8Dot.KernelName}");
        try
        {
            using var mapped = ExactIndex.MapNpy(galleryPath);
            var truth = Truth(dir, mapped.Count);
            var results = new List<BenchResult>();
            if (cases.Contains("exact"))
            {
                // In memory, as FAISS holds it (IndexFlatIP copies the vectors): a mapped file would compete for
                // the page cache with everything else on the shared machine.
                using var exact = InMemory(mapped);
                results.AddRange(Bandwidth(ctx, exact));
                if (ctx.Arguments.Contains("--crossover")) results.AddRange(Crossover(ctx, exact, queries));
                results.AddRange(Exact(ctx, exact, queries, truth, dir));
            }
            foreach (var r in results) yield return r;
            results.Clear();
            if (cases.Contains("int8")) results.AddRange(Int8(ctx, galleryPath, queries, truth, dir));
            foreach (var r in results) yield return r;
            results.Clear();
            if (cases.Contains("hnsw"))
                foreach (int n in (ctx.Option("--hnsw-n") ?? "100000").Split(',').Select(int.Parse))
                    results.AddRange(Hnsw(ctx, mapped, queries, n, dir));
            foreach (var r in results) yield return r;
        }
        finally { Parallelism.Threads = keepThreads; }
    }

    /// <summary>A copy of the mapped gallery in memory (one 4 GB block when read in 64K-row pieces).</summary>
    private static unsafe ExactIndex InMemory(ExactIndex mapped)
    {
        var sw = Stopwatch.StartNew();
        var (_, rows, data) = mapped.Rows.Segment(0);
        var index = new ExactIndex(mapped.Dimension);
        for (long start = 0; start < rows; start += 65536)
        {
            int take = (int)Math.Min(65536, rows - start);
            index.Add(new ReadOnlySpan<float>((float*)data + start * mapped.Dimension, take * mapped.Dimension));
        }
        Console.Error.WriteLine($"search: gallery copied into memory in {sw.Elapsed.TotalSeconds:F1} s ({index.MemoryBytes / 1e9:F2} GB)");
        return index;
    }

    /// <summary>Generates the data and the ground truth when missing; returns why the suite cannot run, or null.</summary>
    private static string? Prepare(string dir)
    {
        try
        {
            // Debian's python3-faiss is compiled "OPTIMIZE GENERIC": FAISS's own distance loops (single queries, SQ8,
            // HNSW) run without AVX2, while batched flat search goes through BLAS. Printed so each run says which FAISS it met.
            var faiss = PythonReference.Run("-c", new[] { "import faiss, hnswlib, json; print(json.dumps({'faiss': faiss.__version__, "
                + "'compile': faiss.get_compile_options().strip() if hasattr(faiss, 'get_compile_options') else 'unknown'}))" }, 1, 120);
            Console.Error.WriteLine($"search: reference FAISS {faiss.GetProperty("faiss").GetString()}, compiled {faiss.GetProperty("compile").GetString()}");
        }
        catch (Exception e)
        {
            return $"{PythonReference.Python} cannot import faiss and hnswlib (Debian: apt-get install python3-faiss python3-hnswlib): {e.Message.Split('\n')[0]}";
        }
        if (!File.Exists(Path.Combine(dir, "gallery.npy")) || !File.Exists(Path.Combine(dir, "meta.json")))
        {
            Directory.CreateDirectory(dir);
            long free = new DriveInfo(Path.GetFullPath(dir)).AvailableFreeSpace;
            if (free < 5L << 30) return $"{dir} has {free >> 20} MB free; the generated gallery needs 4.1 GB (choose another --search-dir).";
            Console.Error.WriteLine($"search: generating 1,000,000 x 1,024 unit vectors into {dir} (once) ...");
            PythonReference.Run("search_reference.py", new[] { "generate", dir }, 2, 3600);
        }
        return null;
    }

    /// <summary>The exact top-100 ids of every query over the first <paramref name="n"/> items (FAISS IndexFlatIP), computed once.</summary>
    private static long[] Truth(string dir, int n)
    {
        string path = Path.Combine(dir, $"truth_{n}.npy");
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"search: exact top-100 of the queries over {n} items (FAISS) ...");
            PythonReference.Run("search_reference.py", new[] { "truth", dir, "--n", n.ToString() }, 2, 3600);
        }
        return Npy.ReadInt64(path).Values;
    }

    /// <summary>Mean fraction of the exact top 10 (row q of the top-100 truth) among each query's 10 results.</summary>
    private static double Recall(SearchResult r, long[] truth)
    {
        double found = 0;
        for (int q = 0; q < r.QueryCount; q++)
        {
            var expected = new HashSet<long>();
            for (int i = 0; i < K; i++) expected.Add(truth[q * 100 + i]);
            foreach (int id in r.IdsOf(q)[..K]) if (expected.Contains(id)) found++;
        }
        return found / (r.QueryCount * (double)K);
    }

    private static unsafe List<BenchResult> Bandwidth(BenchContext ctx, ExactIndex exact)
    {
        var results = new List<BenchResult>();
        double bytes = 4.0 * exact.Count * exact.Dimension;
        foreach (int threads in ctx.ThreadCounts)
        {
            Parallelism.Threads = threads;
            double seconds = ctx.BestSeconds(() => StreamAll(exact), ctx.Quick ? 2 : 5, 1);
            double gbs = bytes / seconds / 1e9;
            results.Add(new BenchResult("search", "bandwidth: stream the gallery", threads, "GB/s", gbs,
                Extra: Extra(("bytes", bytes), ("queries_per_s_at_bandwidth", Math.Round(1 / seconds, 3)))));
        }
        return results;
    }

    private static double _sink;

    /// <summary>
    /// Sums every float of the index's storage (4 independent accumulators per core): a pure streaming read of
    /// the memory the search reads, in pieces of 1M floats spread over the cores.
    /// </summary>
    private static unsafe void StreamAll(ExactIndex index)
    {
        const int Piece = 1 << 20;
        var pieces = new List<(nint Data, int Length)>();
        for (int s = 0; s < index.Rows.SegmentCount; s++)
        {
            var (_, rows, data) = index.Rows.Segment(s);
            long n = (long)rows * index.Dimension;
            for (long at = 0; at < n; at += Piece) pieces.Add((data + (nint)(at * 4), (int)Math.Min(Piece, n - at)));
        }
        var sums = new double[pieces.Count];
        Parallelism.For(pieces.Count, 1, (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                float* x = (float*)pieces[c].Data;
                int len = pieces[c].Length;
                var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                int i = 0;
                for (; i + 32 <= len; i += 32)
                {
                    a0 += Vector256.Load(x + i);
                    a1 += Vector256.Load(x + i + 8);
                    a2 += Vector256.Load(x + i + 16);
                    a3 += Vector256.Load(x + i + 24);
                }
                float s = Vector256.Sum(a0 + a1 + a2 + a3);
                for (; i < len; i++) s += x[i];
                sums[c] = s;
            }
        });
        _sink += sums.Sum();
    }

    private static unsafe List<BenchResult> Crossover(BenchContext ctx, ExactIndex exact, float[] queries)
    {
        var results = new List<BenchResult>();
        int d = exact.Dimension, keep = exact.ScanMaxQueries;
        foreach (int threads in ctx.ThreadCounts)
        {
            Parallelism.Threads = threads;
            foreach (int nq in new[] { 1, 2, 4, 8, 16 })
            {
                var q = queries.AsSpan(0, nq * d).ToArray();
                var ids = new int[nq * K];
                var scores = new float[nq * K];
                double scan = double.NaN;
                if (nq <= ExactIndex.MaxScanQueries)
                {
                    exact.ScanMaxQueries = ExactIndex.MaxScanQueries;
                    scan = ctx.BestSeconds(() => exact.Search(q, K, ids, scores), 3, 1);
                }
                exact.ScanMaxQueries = 0;
                double gemm = ctx.BestSeconds(() => exact.Search(q, K, ids, scores), 3, 1);
                exact.ScanMaxQueries = keep;
                results.Add(new BenchResult("search", $"exact crossover batch {nq}: scan vs gemm", threads, "queries/s",
                    double.IsNaN(scan) ? 0 : nq / scan, "our gemm path", nq / gemm, Extra: Extra()));
            }
        }
        return results;
    }

    private static unsafe List<BenchResult> Exact(BenchContext ctx, ExactIndex exact, float[] queries, long[] truth, string dir)
    {
        var results = new List<BenchResult>();
        int d = exact.Dimension;
        double galleryBytes = 4.0 * exact.Count * d;
        // Agreement with FAISS's exact top 10 over all queries (near-ties may swap the 10th and 11th).
        Parallelism.Threads = ctx.ThreadCounts.Max();
        double agreement = Recall(exact.Search(queries, K), truth);
        Console.Error.WriteLine($"search: exact top-10 agrees with FAISS IndexFlatIP on {agreement:P3} of ids");
        var bandwidth = new Dictionary<int, double>();
        foreach (int threads in ctx.ThreadCounts)
        {
            Parallelism.Threads = threads;
            bandwidth[threads] = galleryBytes / ctx.BestSeconds(() => StreamAll(exact), 3, 0.5) / 1e9;
        }
        foreach (int threads in ctx.ThreadCounts)
        {
            double refOne = 0, refMany = 0, oneSeconds = double.MaxValue, manySeconds = double.MaxValue;
            int repeats = ctx.Quick ? 4 : 8;
            // Two rounds, FAISS and ours interleaved, best of each: a noisy moment on the shared machine does not
            // favour either side.
            for (int round = 0; round < (ctx.Quick ? 1 : 2); round++)
            {
                Console.Error.WriteLine($"search: FAISS IndexFlatIP, {threads} thread(s) ...");
                var reference = PythonReference.Run("search_reference.py", new[] { "flat", dir, "--threads", threads.ToString(), "--repeats", repeats.ToString() }, threads);
                refOne = Math.Max(refOne, reference.GetProperty("qps_1").GetDouble());
                refMany = Math.Max(refMany, reference.GetProperty("qps_256").GetDouble());
                Parallelism.Threads = threads;
                var ids = new int[256 * K];
                var scores = new float[256 * K];
                int next = 0;
                exact.Search(queries.AsSpan(0, d), K, ids, scores);
                for (int i = 0; i < repeats; i++)
                {
                    var q = queries.AsSpan(next++ % 1000 * d, d);
                    var sw = Stopwatch.StartNew();
                    exact.Search(q, K, ids, scores);
                    oneSeconds = Math.Min(oneSeconds, sw.Elapsed.TotalSeconds);
                }
                var batch = queries.AsSpan(0, 256 * d).ToArray();
                manySeconds = Math.Min(manySeconds, ctx.BestSeconds(() => exact.Search(batch, K, ids, scores), Math.Max(1, repeats / 4), 1));
            }
            double atBandwidth = bandwidth[threads] * 1e9 / galleryBytes;
            results.Add(new BenchResult("search", "exact top-10 batch 1", threads, "queries/s", 1 / oneSeconds, "faiss IndexFlatIP", refOne,
                Extra: Extra(("queries_per_s_at_bandwidth", Math.Round(atBandwidth, 3)), ("bandwidth_fraction", Math.Round(1 / oneSeconds / atBandwidth, 3)),
                    ("agreement_with_faiss", Math.Round(agreement, 5)), ("path", $"scan {DotScan.KernelName}"))));
            results.Add(new BenchResult("search", "exact top-10 batch 256", threads, "queries/s", 256 / manySeconds, "faiss IndexFlatIP", refMany,
                Extra: Extra(("gflops", Math.Round(2.0 * 256 * exact.Count * d / manySeconds / 1e9, 1)), ("path", $"gemm {Gemm.KernelName}"))));
        }
        return results;
    }

    private static List<BenchResult> Int8(BenchContext ctx, string galleryPath, float[] queries, long[] truth, string dir)
    {
        var results = new List<BenchResult>();
        int threads = ctx.ThreadCounts.Max();
        Parallelism.Threads = threads;
        var sw = Stopwatch.StartNew();
        // Codes in memory, float32 vectors for re-scoring left in the mapped file (only candidates are read).
        using var index = Int8Index.Build(ExactIndex.MapNpy(galleryPath));
        double build = sw.Elapsed.TotalSeconds;
        int d = index.Dimension;
        double floatBytes = 4.0 * index.Count * d;
        Console.Error.WriteLine($"search: int8 codes built in {build:F1} s ({index.ScannedBytes / 1e9:F2} GB scanned per pass, {index.MemoryBytes / 1e9:F2} GB in memory)");
        int referenceFactor = int.Parse(ctx.Option("--int8-reference-factor") ?? "4");
        var first256 = queries.AsSpan(0, 256 * d).ToArray();
        foreach (int factor in (ctx.Option("--int8-factors") ?? "2,4,8").Split(',').Select(int.Parse))
        {
            index.RescoreFactor = factor;
            Parallelism.Threads = threads;
            double recall = Recall(index.Search(queries, K), truth);
            double recall256 = Recall(index.Search(first256, K), truth);
            foreach (int t in ctx.ThreadCounts)
            {
                Parallelism.Threads = t;
                var ids = new int[256 * K];
                var scores = new float[256 * K];
                int next = 0;
                double one = ctx.BestSeconds(() => index.Search(queries.AsSpan(next++ % 1000 * d, d), K, ids, scores), ctx.Quick ? 3 : 8, 0.5);
                double many = ctx.BestSeconds(() => index.Search(first256, K, ids, scores), ctx.Quick ? 1 : 2, 1);
                var extra = Extra(("recall_at_10", Math.Round(recall, 4)), ("recall_at_10_first_256", Math.Round(recall256, 4)),
                    ("scanned_bytes", index.ScannedBytes), ("float32_bytes", floatBytes), ("memory_bytes", index.MemoryBytes),
                    ("build_s", Math.Round(build, 2)), ("kernel", Int8Dot.KernelName));
                string? refName = null;
                double? ref1 = null, ref256 = null;
                if (factor == referenceFactor)
                {
                    // Debian's FAISS is a generic (non-SIMD) build and its IndexRefineFlat keeps the float32 copy
                    // in RAM: measured once per thread count, at one factor.
                    Console.Error.WriteLine($"search: FAISS SQ8 + IndexRefineFlat (k_factor {factor}), {t} thread(s) ...");
                    var reference = PythonReference.Run("search_reference.py", new[] { "sq8", dir, "--threads", t.ToString(), "--k-factor", factor.ToString(), "--repeats", ctx.Quick ? "2" : "4" }, t, 4 * 3600);
                    refName = "faiss SQ8+RefineFlat";
                    ref1 = reference.GetProperty("qps_1").GetDouble();
                    ref256 = reference.GetProperty("qps_256").GetDouble();
                    extra["reference_recall_at_10_first_256"] = Math.Round(reference.GetProperty("recall_256").GetDouble(), 4);
                    extra["reference_code_bytes"] = reference.GetProperty("code_bytes").GetDouble();
                    extra["reference_memory_bytes"] = reference.GetProperty("memory_bytes").GetDouble();
                    extra["reference_build_s"] = Math.Round(reference.GetProperty("build_s").GetDouble(), 2);
                }
                results.Add(new BenchResult("search", $"int8 r={factor} top-10 batch 1", t, "queries/s", 1 / one, refName, ref1, Extra: extra));
                results.Add(new BenchResult("search", $"int8 r={factor} top-10 batch 256", t, "queries/s", 256 / many, refName, ref256, Extra: extra));
            }
        }
        return results;
    }

    private static unsafe List<BenchResult> Hnsw(BenchContext ctx, ExactIndex exact, float[] queries, int n, string dir)
    {
        var results = new List<BenchResult>();
        int threads = ctx.ThreadCounts.Max();
        int m = int.Parse(ctx.Option("--m") ?? "16"), efc = int.Parse(ctx.Option("--efc") ?? "128");
        var efs = (ctx.Option("--efs") ?? "64,256").Split(',').Select(int.Parse).ToArray();
        var libs = (ctx.Option("--hnsw-libs") ?? "faiss,hnswlib").Split(',', StringSplitOptions.RemoveEmptyEntries);
        int d = exact.Dimension;
        n = Math.Min(n, exact.Count);
        var truth = Truth(dir, n);
        Parallelism.Threads = threads;
        var (_, _, data) = exact.Rows.Segment(0);
        Console.Error.WriteLine($"search: USearch HNSW over {n} items (M {m}, efConstruction {efc}, {threads} threads) ...");
        var sw = Stopwatch.StartNew();
        using var index = new HnswIndex(d, new HnswOptions { M = m, EfConstruction = efc, EfSearch = efs[0] });
        for (long start = 0; start < n; start += 65536)
        {
            int take = (int)Math.Min(65536, n - start);
            index.Add(new ReadOnlySpan<float>((float*)data + start * d, take * d));
            Console.Error.WriteLine($"search: usearch {start + take} added ({sw.Elapsed.TotalSeconds:F0} s)");
        }
        double build = sw.Elapsed.TotalSeconds;
        var ours = new List<(int Ef, double Recall, double Qps, double Qps1)>();
        foreach (int ef in efs)
        {
            index.EfSearch = ef;
            double recall = Recall(index.Search(queries, K), truth);
            var ids = new int[1000 * K];
            var scores = new float[1000 * K];
            double all = ctx.BestSeconds(() => index.Search(queries, K, ids, scores), ctx.Quick ? 1 : 3, 1);
            int next = 0;
            double one = ctx.BestSeconds(() => index.Search(queries.AsSpan(next++ % 1000 * d, d), K, ids, scores), 20, 0.2);
            ours.Add((ef, recall, 1000 / all, 1 / one));
            // Printed now: the references' builds that follow can take longer than the session that waits for them.
            Console.Error.WriteLine($"search: usearch n={n} efSearch {ef}: recall@10 {recall:F4}, {1000 / all:F1} queries/s (batch 1000), {1 / one:F1} (batch 1); built in {build:F0} s");
        }
        long memory = index.MemoryBytes;
        string library = index.LibraryDescription;
        index.Dispose();
        foreach (string lib in libs)
        {
            Console.Error.WriteLine($"search: {lib} HNSW over {n} items ...");
            var reference = PythonReference.Run("search_reference.py", new[] { "hnsw", dir, "--lib", lib, "--n", n.ToString(), "--m", m.ToString(),
                "--efc", efc.ToString(), "--efs", string.Join(",", efs), "--threads", threads.ToString(), "--repeats", ctx.Quick ? "1" : "3" }, threads, 6 * 3600);
            double refBuild = reference.GetProperty("build_s").GetDouble();
            string refName = lib == "faiss" ? "faiss IndexHNSWFlat" : "hnswlib";
            results.Add(new BenchResult("search", $"hnsw build n={n} M={m} efC={efc}", threads, "s", build, refName, refBuild, HigherIsBetter: false,
                Extra(("library", library), ("memory_bytes", memory), ("reference_memory_bytes", reference.GetProperty("memory_bytes").GetDouble()))));
            var refResults = reference.GetProperty("results").EnumerateArray().ToArray();
            for (int i = 0; i < ours.Count; i++)
            {
                var (ef, recall, qps, qps1) = ours[i];
                var r = refResults[i];
                results.Add(new BenchResult("search", $"hnsw n={n} M={m} efC={efc} efS={ef} top-10 batch 1000", threads, "queries/s", qps, refName, r.GetProperty("qps").GetDouble(),
                    Extra: Extra(("recall_at_10", Math.Round(recall, 4)), ("reference_recall_at_10", Math.Round(r.GetProperty("recall").GetDouble(), 4)),
                        ("queries_per_s_batch_1", Math.Round(qps1, 1)), ("reference_queries_per_s_batch_1", Math.Round(r.GetProperty("qps_1").GetDouble(), 1)), ("library", library))));
            }
        }
        return results;
    }

    /// <summary>Extra fields every line carries (CPU, load) plus the given ones.</summary>
    private static Dictionary<string, object> Extra(params (string Key, object Value)[] fields)
    {
        var d = new Dictionary<string, object> { ["cpu"] = Cpu };
        if (BenchContext.LoadAverage() is { } load) d["load1"] = load;
        foreach (var (k, v) in fields) d[k] = v;
        return d;
    }

    /// <summary>The CPU model (/proc/cpuinfo) and the widest vectors .NET uses here.</summary>
    private static string Cpu
    {
        get
        {
            string model = "unknown CPU";
            try
            {
                model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? model;
            }
            catch (IOException) { }
            string width = Vector512.IsHardwareAccelerated ? "avx512" : Vector256.IsHardwareAccelerated ? "avx2" : "sse";
            return $"{model} ({Environment.ProcessorCount} cpus, {width})";
        }
    }
}
