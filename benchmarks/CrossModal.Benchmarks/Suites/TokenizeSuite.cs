using CrossModal.Tensors.Threading;
using CrossModal.Text;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// Tokenizer throughput (captions/s) of WordTokenizer.TokenizeCaption on the Flickr30K training captions, next to
/// NLTK's word_tokenize (untrained Punkt + NLTKWordTokenizer, benchmarks/reference/tokenize_nltk.py) on the same
/// captions in the same run. NLTK runs on one thread (Python); our 2-thread case splits the captions in two chunks.
/// --quick uses the first 20,000 captions.
/// </summary>
internal static class TokenizeSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        string path = Prerequisites.Data(Path.Combine(BenchContext.DataRoot, "f30k-captions-multi30k", "train_caps.txt"));
        Prerequisites.Python("nltk");
        int limit = ctx.Quick ? 20_000 : 0;
        var captions = TextLines.Read(path);
        if (limit > 0) captions = captions[..limit];

        Console.Error.WriteLine($"tokenize: NLTK reference on {captions.Length} captions ...");
        var reference = PythonReference.Run("tokenize_nltk.py", [path, limit.ToString(), "1"], threads: 1);
        double nltkRate = reference.GetProperty("captions_per_s").GetDouble();
        long nltkTokens = reference.GetProperty("tokens").GetInt64();

        foreach (int threads in ctx.ThreadCounts)
        {
            int previous = Parallelism.Threads;
            Parallelism.Threads = threads;
            try
            {
                long tokens = 0;
                double seconds = ctx.BestSeconds(() => tokens = TokenizeAll(captions), repetitions: 3, minSeconds: 1);
                yield return new BenchResult("tokenize", "f30k-train-captions", threads, "captions/s", captions.Length / seconds,
                    "nltk.word_tokenize (untrained Punkt, 1 thread)", nltkRate, HigherIsBetter: true,
                    new Dictionary<string, object>
                    {
                        ["captions"] = captions.Length,
                        ["tokens"] = tokens,
                        ["tokens_nltk"] = nltkTokens,
                        ["nltk"] = reference.GetProperty("nltk").GetString() ?? "?",
                        ["trained_punkt_available"] = reference.GetProperty("trained_punkt_available").GetBoolean(),
                    });
            }
            finally { Parallelism.Threads = previous; }
        }
    }

    private static long TokenizeAll(string[] captions)
    {
        long total = 0;
        var gate = new object();
        Parallelism.For(captions.Length, 4096, (start, end) =>
        {
            long local = 0;
            for (int i = start; i < end; i++) local += WordTokenizer.TokenizeCaption(captions[i]).Count;
            lock (gate) total += local;
        });
        return total;
    }
}
