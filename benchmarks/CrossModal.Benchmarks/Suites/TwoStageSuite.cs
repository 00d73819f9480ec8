using System.Diagnostics;
using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Search;
using CrossModal.Search.Exact;
using CrossModal.Search.Gallery;
using CrossModal.Search.TwoStage;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// Two-stage retrieval over a synthetic gallery of --gallery (default 100,000) images, next to full scoring in the
/// same run. The images are made of real region embeddings: --checkpoint (a cross-attention model, e.g. SCAN) encodes
/// the 1,000 f8k-1k images, and synthetic image g takes a random base image's 36 regions and replaces each with
/// probability 1/2 by a random region of any image (seeded). Images are kept as 36 region ids and materialised per
/// block, so the gallery costs 14 MB instead of 14.7 GB of float32 regions. Queries are f8k test captions.
/// <list type="bullet">
/// <item>full scoring: --full-queries captions (default 2) against every image, the model's block scorer over blocks of
/// 128 images: pair scores and seconds per query.</item>
/// <item>two-stage: --queries captions (default 64): pooled unit vectors of all images in an <see cref="ExactIndex"/>
/// (built once, timed apart), each query's top --rerank (default 128) re-scored by <see cref="PairScorer"/>.
/// Seconds per query include the query's pooled search, gathering the candidates and the re-scoring.</item>
/// </list>
/// Also reported: how often two-stage finds full scoring's top image (over the full-scored queries), as a check
/// that the candidates were scored like full scoring scores them.
/// </summary>
internal static class TwoStageSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        string data = Path.Combine(BenchContext.DataRoot, "f8k-1k-precomp");
        string? checkpoint = ctx.Option("--checkpoint");
        if (checkpoint is null || !File.Exists(checkpoint))
            throw new MissingPrerequisiteException("two-stage needs --checkpoint MODEL: a cross-attention model trained on f8k-1k-precomp (e.g. `crossmodal train --preset scan-i2t-lse`).");
        if (!Directory.Exists(data)) throw new MissingPrerequisiteException($"two-stage needs {data} (set CROSSMODAL_DATA).");
        int n = int.Parse(ctx.Option("--gallery") ?? "100000");
        int k = int.Parse(ctx.Option("--rerank") ?? "128");
        int nq = int.Parse(ctx.Option("--queries") ?? (ctx.Quick ? "16" : "64"));
        int nFull = Math.Min(nq, int.Parse(ctx.Option("--full-queries") ?? (ctx.Quick ? "1" : "2")));
        int threads = ctx.ThreadCounts.Max();
        Parallelism.Threads = threads;
        var model = ModelHandle.Load(checkpoint);

        // The region pool: every region of the 1,000 f8k images; the queries: test captions spread over the split.
        var pool = new List<float[]>();
        int regions = 0, d = 0;
        EmbeddingSet? testCaptions = null;
        foreach (var split in new[] { "train", "dev", "test" })
        {
            using var set = PrecompDataset.Open(data, split, model.Vocabulary);
            var images = model.EncodeImages(set);
            d = images.Dim;
            regions = images.Length(0);
            for (int i = 0; i < images.Count; i++) pool.Add(images.Item(i).ToArray());
            if (split == "test") testCaptions = model.EncodeCaptions(set);
        }
        var queries = new EmbeddingSet(d);
        for (int q = 0; q < nq; q++) queries.Append(testCaptions!.Item((int)((long)q * testCaptions.Count / nq)));
        var rng = new Rng(17);
        var regionIds = new int[(long)n * regions];
        for (int g = 0; g < n; g++)
        {
            int baseImage = rng.NextInt(pool.Count);
            for (int r = 0; r < regions; r++)
                regionIds[(long)g * regions + r] = rng.NextInt(2) == 0 ? baseImage * regions + r : rng.NextInt(pool.Count * regions);
        }
        var rows = new float[regions * d];
        void Materialise(int g, EmbeddingSet into)
        {
            for (int r = 0; r < regions; r++)
            {
                int id = regionIds[(long)g * regions + r];
                pool[id / regions].AsSpan(id % regions * d, d).CopyTo(rows.AsSpan(r * d, d));
            }
            into.Append(rows);
        }
        Console.Error.WriteLine($"two-stage: {n:N0} synthetic images x {regions} regions of {d} from {pool.Count} f8k images ({model.Source}); {nq} queries, k {k}");

        // Full scoring of the first nFull queries.
        var fullQueries = new EmbeddingSet(d);
        for (int q = 0; q < nFull; q++) fullQueries.Append(queries.Item(q));
        var full = new float[(long)n * nFull];
        var block = new EmbeddingSet(d);
        var load = BenchContext.LoadAverage();
        // Wall time and this process's CPU time of each phase: on the shared machine a phase's wall time depends on
        // what else ran at that moment, its CPU time much less.
        var process = Process.GetCurrentProcess();
        double Cpu() { process.Refresh(); return process.TotalProcessorTime.TotalSeconds; }
        double cpu0 = Cpu();
        var clock = Stopwatch.StartNew();
        for (int g0 = 0; g0 < n; g0 += 128)
        {
            int b = Math.Min(128, n - g0);
            block.Clear();
            for (int g = g0; g < g0 + b; g++) Materialise(g, block);
            model.ScoreBlock(block, 0, b, fullQueries, 0, nFull, full.AsSpan(g0 * nFull, b * nFull), nFull);
        }
        double fullSeconds = clock.Elapsed.TotalSeconds, fullCpu = Cpu() - cpu0;
        Console.Error.WriteLine($"two-stage: full scoring {nFull} queries x {n:N0} images: {fullSeconds:F1} s ({fullCpu:F1} s CPU)");

        // The pre-ranking index (built once per gallery, like `crossmodal index build`).
        clock.Restart();
        var pooled = new float[(long)n * d];
        var one = new EmbeddingSet(d);
        for (int g = 0; g < n; g++)
        {
            one.Clear();
            Materialise(g, one);
            GalleryCollection.Pool(one.Item(0), d, pooled.AsSpan(g * d, d));
        }
        using var index = new ExactIndex(d);
        index.Add(pooled);
        double buildSeconds = clock.Elapsed.TotalSeconds;

        // Two-stage: pooled search, gather the candidates once each, score the pairs.
        cpu0 = Cpu();
        clock.Restart();
        var queryPooled = new float[nq * d];
        for (int q = 0; q < nq; q++) GalleryCollection.Pool(queries.Item(q), d, queryPooled.AsSpan(q * d, d));
        var found = index.Search(queryPooled, k);
        var local = new Dictionary<int, int>();
        var candidates = new EmbeddingSet(d);
        var pairImages = new int[found.Ids.Length];
        var pairCaptions = new int[found.Ids.Length];
        for (int q = 0, at = 0; q < nq; q++)
            foreach (int g in found.IdsOf(q))
            {
                if (!local.TryGetValue(g, out int li))
                {
                    local[g] = li = local.Count;
                    Materialise(g, candidates);
                }
                pairImages[at] = li;
                pairCaptions[at++] = q;
            }
        var pairs = new CandidatePairs(local.Count, nq, pairImages, pairCaptions);
        var scores = new float[pairs.Count];
        PairScorer.Score(model, candidates, queries, pairs, scores);
        var top = new int[nq];
        for (int q = 0; q < nq; q++)
        {
            float best = float.NegativeInfinity;
            foreach (int g in found.IdsOf(q))
            {
                float s = scores[pairs.IndexOf(local[g], q)];
                if (s > best) (best, top[q]) = (s, g);
            }
        }
        double twoSeconds = clock.Elapsed.TotalSeconds, twoCpu = Cpu() - cpu0;

        int agree = 0;
        for (int q = 0; q < nFull; q++)
        {
            int best = 0;
            for (int g = 1; g < n; g++) if (full[(long)g * nFull + q] > full[(long)best * nFull + q]) best = g;
            if (best == top[q]) agree++;
        }
        var extra = new Dictionary<string, object>
        {
            ["model"] = model.Source,
            ["gallery_images"] = n,
            ["k"] = k,
            ["queries"] = nq,
            ["full_queries"] = nFull,
            ["pair_scores_per_query"] = Math.Round((double)pairs.Count / nq, 1),
            ["full_pair_scores_per_query"] = n,
            ["fewer_pair_scores"] = Math.Round((double)n * nq / pairs.Count, 1),
            ["seconds_per_query"] = Math.Round(twoSeconds / nq, 4),
            ["full_seconds_per_query"] = Math.Round(fullSeconds / nFull, 3),
            ["cpu_seconds_per_query"] = Math.Round(twoCpu / nq, 4),
            ["full_cpu_seconds_per_query"] = Math.Round(fullCpu / nFull, 3),
            ["pooled_index_build_s"] = Math.Round(buildSeconds, 1),
            ["top1_same_as_full"] = $"{agree}/{nFull}",
            ["load_at_start"] = load ?? double.NaN,
        };
        yield return new BenchResult("two-stage", $"two-stage k {k} over {n} synthetic images", threads, "queries/s", nq / twoSeconds,
            "full scoring", nFull / fullSeconds, Extra: extra);
    }
}
