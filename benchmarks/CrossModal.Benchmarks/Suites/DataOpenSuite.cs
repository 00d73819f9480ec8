using CrossModal.Data;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Threading;
using CrossModal.Text;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// Time to open the f8k-1k-precomp train split (762 x 36 x 512 float32, 56 MB of features, 3,810 captions) and
/// read its captions, warm page cache, next to Python in the same run (benchmarks/reference/data_open_numpy.py):
/// "map+read" = memory-map the .npy and read the caption lines (numpy.load mmap_mode='r' + reading the file);
/// "open" = PrecompDataset.Open: map, check every feature is finite, read, tokenize and encode every caption
/// (reference: the same work in numpy + NLTK); "open-unchecked" skips the finite check.
/// </summary>
internal static class DataOpenSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        string dir = Prerequisites.Data(Path.Combine(BenchContext.DataRoot, "f8k-1k-precomp"));
        string vocabPath = Prerequisites.Data(Path.Combine(BenchContext.DataRoot, "vocab", "f8k_precomp_vocab.json"));
        Prerequisites.Python("numpy", "nltk");
        var vocab = Vocabulary.Load(vocabPath);
        Console.Error.WriteLine("data-open: numpy reference ...");
        var reference = PythonReference.Run("data_open_numpy.py", [dir, "train", vocabPath, ctx.Quick ? "2" : "5"], threads: 1);
        double minimal = reference.GetProperty("minimal_s").GetDouble();
        double full = reference.GetProperty("full_s").GetDouble();
        var extra = new Dictionary<string, object>
        {
            ["images"] = reference.GetProperty("images").GetInt32(),
            ["captions"] = reference.GetProperty("captions").GetInt32(),
            ["feature_bytes"] = reference.GetProperty("bytes").GetInt64(),
        };

        double mapRead = ctx.BestSeconds(() =>
        {
            using var m = NpyMapped.Open(Path.Combine(dir, "train_ims.npy"));
            _ = TextLines.Read(Path.Combine(dir, "train_caps.txt"));
        });
        yield return new BenchResult("data-open", "f8k-train map+read", 1, "s", mapRead, "numpy.load(mmap_mode='r') + read captions", minimal, HigherIsBetter: false, extra);

        foreach (int threads in ctx.ThreadCounts)
        {
            int previous = Parallelism.Threads;
            Parallelism.Threads = threads;
            try
            {
                double open = ctx.BestSeconds(() => { using var d = PrecompDataset.Open(dir, "train", vocab); }, repetitions: 20, minSeconds: 2);
                yield return new BenchResult("data-open", "f8k-train open", threads, "s", open,
                    "numpy mmap + np.isfinite + NLTK tokenize/encode", full, HigherIsBetter: false, extra);
                double unchecked_ = ctx.BestSeconds(() => { using var d = PrecompDataset.Open(dir, "train", vocab, checkFeatures: false); }, repetitions: 20, minSeconds: 2);
                yield return new BenchResult("data-open", "f8k-train open-unchecked", threads, "s", unchecked_, HigherIsBetter: false, Extra: extra);
            }
            finally { Parallelism.Threads = previous; }
        }
    }
}
