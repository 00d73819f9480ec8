using System.Diagnostics;
using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Scan;
using CrossModal.Search;
using CrossModal.Search.Gallery;
using CrossModal.Serve;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;
using CrossModal.Text;
using Microsoft.AspNetCore.Hosting;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// Start-up and load test of `crossmodal serve` over a gallery index file: a SCAN model's index of the 1,000 f8k-1k
/// images (built here with CrossModal.Search's builder, as `crossmodal index build` does, or given with --index) is
/// opened as the server opens it (index mapped, checkpoint hashed and loaded, encoded regions widened to float32) and
/// served on 127.0.0.1 (a free port, Kestrel, in this process). Start-up: open + start, repeated. Load: N concurrent
/// clients sending text queries (the test split's captions, in turn) for a bounded time, in full scoring (1,000 pairs
/// per query) and two-stage (128 pooled-vector candidates re-scored) modes; requests/s, p50/p99 latency, errors (must
/// be 0) and the process's memory before and after (the clients run in the same process; their share is small: one
/// HttpClient; without --index the index is built in this process first, which leaves its freed memory in the
/// working set: pass an index built by the CLI for the server's own figures). Start-ups are measured after the load
/// cases. Arguments: [--index GALLERY] or [--checkpoint MODEL] (default: SCAN t2i LSE with the published sizes,
/// 1,024-d, random weights: the cost does not depend on the weights), [--clients 1,8,32], [--seconds 10],
/// [--startup-runs 5], [--keep-index DIR] (build the index and the random checkpoint into DIR and keep them, for a later
/// run with --index DIR/f8k-1k.index).
/// </summary>
internal static class ServeLoadSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        string data = Path.Combine(BenchContext.DataRoot, "f8k-1k-precomp");
        string images = Path.Combine(BenchContext.DataRoot, "f8k-1k", "images");
        string vocabPath = Path.Combine(BenchContext.DataRoot, "vocab", "f8k_precomp_vocab.json");
        if (!Directory.Exists(data) || !File.Exists(vocabPath))
            throw new MissingPrerequisiteException($"serve-load needs {data} and {vocabPath} (set CROSSMODAL_DATA).");
        string? indexPath = ctx.Option("--index");
        string? checkpoint = ctx.Option("--checkpoint");
        if (indexPath is not null && !File.Exists(indexPath)) throw new MissingPrerequisiteException($"serve-load: --index {indexPath} not found.");
        int[] clients = (ctx.Option("--clients") ?? (ctx.Quick ? "8" : "1,8,32")).Split(',').Select(int.Parse).ToArray();
        double seconds = double.Parse(ctx.Option("--seconds") ?? (ctx.Quick ? "3" : "10"), System.Globalization.CultureInfo.InvariantCulture);
        int startupRuns = int.Parse(ctx.Option("--startup-runs") ?? (ctx.Quick ? "2" : "5"), System.Globalization.CultureInfo.InvariantCulture);
        Parallelism.Threads = ctx.ThreadCounts.Max();

        string? keep = ctx.Option("--keep-index");
        if (keep is not null) Directory.CreateDirectory(keep);
        string folder = keep ?? Directory.CreateTempSubdirectory("crossmodal-serve-load-").FullName;
        try
        {
            if (indexPath is null)
            {
                indexPath = Path.Combine(folder, "f8k-1k.index");
                var clock = Stopwatch.StartNew();
                BuildIndex(indexPath, checkpoint ?? SaveRandomScan(vocabPath, Path.Combine(folder, "scan-t2i-lse.safetensors")), data, Directory.Exists(images) ? images : null);
                Console.Error.WriteLine($"serve-load: built {indexPath} ({new FileInfo(indexPath).Length / 1e6:F0} MB) in {clock.Elapsed.TotalSeconds:F1} s");
            }

            var gallery = Gallery.Open(indexPath);
            if (gallery.Captions.Count > 0) gallery.WaitForCaptions(); // as a server that has finished starting (image search ready)
            var model = gallery.Model;
            var queries = File.ReadAllLines(Path.Combine(data, "test_caps.txt")).Where(l => l.Trim().Length > 0).ToArray();
            var service = new SearchService(gallery, new ServeOptions(), imageEncoder: null);
            var app = ServeApp.Create(service, b => b.WebHost.UseUrls("http://127.0.0.1:0"));
            string url = ServeApp.StartAsync(app).GetAwaiter().GetResult().Single();
            Console.Error.WriteLine($"serve-load: {gallery.Description}; serving {url}");
            try
            {
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
                Drive(http, queries, "full", 2, 1.0); // warm-up: JIT, pools, connections
                foreach (var mode in new[] { "full", "two-stage" })
                    foreach (int n in clients)
                    {
                        var (before, heapBefore) = Memory();
                        var load = BenchContext.LoadAverage();
                        var run = Drive(http, queries, mode, n, seconds);
                        var (after, heapAfter) = Memory();
                        var latencies = run.Latencies.Order().ToArray();
                        double P(double q) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(q * latencies.Length) - 1)];
                        if (run.Errors > 0) Console.Error.WriteLine($"serve-load: {run.Errors} errors in {mode} with {n} clients (first: {run.FirstError})");
                        yield return new BenchResult("serve-load", $"{mode} {n} clients", Parallelism.Threads, "req/s", run.Requests / run.Seconds, Extra: new Dictionary<string, object>
                        {
                            ["model"] = model.Source,
                            ["index"] = indexPath,
                            ["gallery_images"] = gallery.Items.Count,
                            ["pairs_per_query"] = mode == "full" ? gallery.Items.Count : Math.Min(gallery.Items.Count, service.Options.PrerankK),
                            ["requests"] = run.Requests,
                            ["errors"] = run.Errors,
                            ["seconds"] = Math.Round(run.Seconds, 2),
                            ["p50_ms"] = Math.Round(P(0.50), 2),
                            ["p99_ms"] = Math.Round(P(0.99), 2),
                            ["working_set_mb_before"] = before,
                            ["working_set_mb_after"] = after,
                            ["gc_heap_mb_before"] = heapBefore,
                            ["gc_heap_mb_after"] = heapAfter,
                            ["peak_working_set_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
                            ["load_average"] = load ?? double.NaN,
                        });
                    }
            }
            finally
            {
                app.StopAsync().GetAwaiter().GetResult();
                app.DisposeAsync().AsTask().GetAwaiter().GetResult();
                gallery.Dispose();
            }

            // Start-up: what `crossmodal serve --index` does before it listens, repeated (the file is in the page cache
            // after the first run, as on a server that restarts). After the load cases, so that their memory figures hold one gallery.
            var startupLoad = BenchContext.LoadAverage();
            var startups = StartUps(indexPath, startupRuns);
            var sorted = startups.Order().ToArray();
            yield return new BenchResult("serve-load", "start-up from index", Parallelism.Threads, "s", sorted[sorted.Length / 2], HigherIsBetter: false, Extra: new Dictionary<string, object>
            {
                ["index"] = indexPath,
                ["index_mb"] = Math.Round(new FileInfo(indexPath).Length / 1e6, 1),
                ["runs_s"] = startups.Select(x => Math.Round(x, 3)).ToArray(),
                ["load_average"] = startupLoad ?? double.NaN,
            });

        }
        finally
        {
            if (keep is null) try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Seconds from nothing to listening, <paramref name="runs"/> times: open the index (map, hash and load the
    /// checkpoint, widen the regions), create the app, start Kestrel. Not an iterator, so nothing of a run outlives it.
    /// </summary>
    private static List<double> StartUps(string indexPath, int runs)
    {
        var seconds = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            using var g = Gallery.Open(indexPath);
            var a = ServeApp.Create(new SearchService(g, new ServeOptions(), imageEncoder: null), b => b.WebHost.UseUrls("http://127.0.0.1:0"));
            ServeApp.StartAsync(a).GetAwaiter().GetResult();
            seconds.Add(clock.Elapsed.TotalSeconds);
            a.StopAsync().GetAwaiter().GetResult();
            a.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return seconds;
    }

    /// <summary>SCAN t2i LSE with the published sizes (1,024-d), random weights, saved as a checkpoint the index can record.</summary>
    private static string SaveRandomScan(string vocabPath, string path)
    {
        var vocab = Vocabulary.Load(vocabPath);
        var scan = new ScanModel(new ScanConfig { ImgDim = 512, VocabSize = vocab.Count, CrossAttn = AttentionDirection.TextToImage, AggFunc = Aggregation.LogSumExp, LambdaSoftmax = 9, LambdaLse = 6 }, new Rng(1));
        scan.Eval();
        ModelFile.Save(path, scan, vocab.ToJson());
        return path;
    }

    /// <summary>The 1,000 images (train, dev, test) as `crossmodal index build --data ... --image-root ...` encodes a split, into one index.</summary>
    private static void BuildIndex(string path, string checkpoint, string data, string? images)
    {
        var model = ModelHandle.Load(checkpoint);
        int regions, dim;
        using (var probe = PrecompDataset.Open(data, "test", model.Vocabulary)) (regions, dim) = (probe.Regions, probe.FeatureDim);
        using var index = GalleryIndex.Create(model, CheckpointIdentity.Of(checkpoint), VectorIndexKind.Exact, regions, dim, withCaptions: false);
        foreach (var split in new[] { "train", "dev", "test" })
        {
            using var dataset = PrecompDataset.Open(data, split, model.Vocabulary);
            GalleryBuilder.AddPrecomp(index, model, dataset, images);
            index.AddSource($"precomp {data} split {split}");
        }
        index.Save(path);
    }

    private sealed record LoadRun(long Requests, long Errors, double Seconds, List<double> Latencies, string? FirstError);

    /// <summary><paramref name="clients"/> loops, each sending its next query as soon as the last answer came, until the time is up.</summary>
    private static LoadRun Drive(HttpClient http, string[] queries, string mode, int clients, double seconds)
    {
        var latencies = new List<double>[clients];
        long requests = 0, errors = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = latencies[c] = new List<double>();
            for (int i = c; clock.Elapsed < deadline; i += clients)
            {
                string q = Uri.EscapeDataString(queries[i % queries.Length].Trim());
                var sw = Stopwatch.StartNew();
                try
                {
                    using var response = await http.GetAsync($"/api/search?q={q}&k=10&mode={mode}");
                    await response.Content.ReadAsByteArrayAsync();
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, $"HTTP {(int)response.StatusCode}", null);
                        continue;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                    continue;
                }
                mine.Add(sw.Elapsed.TotalMilliseconds);
                Interlocked.Increment(ref requests);
            }
        })).ToArray();
        Task.WaitAll(tasks);
        return new LoadRun(requests, errors, clock.Elapsed.TotalSeconds, latencies.SelectMany(l => l).ToList(), firstError);
    }

    private static (double WorkingSetMb, double HeapMb) Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var p = Process.GetCurrentProcess();
        return (Math.Round(p.WorkingSet64 / 1048576.0, 1), Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1));
    }
}
