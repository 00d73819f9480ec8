using CrossModal.Benchmarks;
using CrossModal.Benchmarks.Suites;

// Usage: dotnet run -c Release --project benchmarks/CrossModal.Benchmarks -- SUITE [SUITE...] [--threads 1,2] [--quick]
// Prints one JSON line per case (see BenchResult); the machine line, progress and notes go to stderr. A suite whose
// reference is not installed prints one line saying what to install and a {"suite", "skipped"} JSON line; the
// other suites still run. Exit code: 0, 1 if a suite failed, 2 for a usage error.
// (`mpi-rank MODEL STEPS` is the mode the `mpi` suite starts under mpirun, one process per rank.)
if (args.Length == 3 && args[0] == "mpi-rank") return MpiSuite.Rank(args);
Suite[] suites =
[
    new("gemm", "GEMM GFLOP/s, square and model shapes, 1 and 2 threads, next to OpenBLAS in the same process", GemmSuite.Run),
    new("gru", "GRU and Bi-GRU forward + backward on a caption batch, next to PyTorch", GruSuite.Run),
    new("tokenize", "NLTK word_tokenize port on the Flickr30K training captions, next to NLTK", TokenizeSuite.Run),
    new("data-open", "opening the f8k-1k precomp train split (map, check, tokenize), next to numpy + NLTK", DataOpenSuite.Run),
    new("scan-train", "one SCAN t2i LSE training step (batch 128), next to PyTorch", ScanSuite.Train),
    new("scan-score", "SCAN scoring of 1,000 images x 5,000 captions (extrapolated), next to PyTorch", ScanSuite.Score),
    new("imram-train", "one IMRAM full_IMRAM K = 3 training step (batch 128), next to PyTorch", ImramSuite.Train),
    new("imram-score", "IMRAM full_IMRAM K = 3 scoring of 1,000 images x 5,000 captions (extrapolated), next to PyTorch", ImramSuite.Score),
    new("naaf-train", "one NAAF training step with the threshold walk (batch 128), next to PyTorch", NaafSuite.Train),
    new("naaf-score", "NAAF test-time scoring of 1,000 images x 5,000 captions (extrapolated), next to PyTorch", NaafSuite.Score),
    new("vsepp-train", "one VSE++ training step (batch 128, GRU 1024), next to PyTorch", VseSuite.Train),
    new("vsepp-eval", "VSE++ encode + score + recall of 1,000 images x 5,000 captions, next to PyTorch", VseSuite.Eval),
    new("vsrn-train", "one VSRN training step with the caption loss (batch 128, embed 2048, max_len 60), next to PyTorch", VsrnSuite.Train),
    new("vsrn-encode", "VSRN image encoding of 1,000 images (4 GCN blocks + GRU, embed 2048), next to PyTorch", VsrnSuite.Encode),
    new("squeezenet", "SqueezeNet 1.1 forward at 224 x 224, batch 16 and single images, next to PyTorch", SqueezeNetSuite.Run),
    new("category-baselines", "CCA and semantic matching on the Wikipedia benchmark (mAP), next to the numpy baselines' values", CategoryBaselinesSuite.Run),
    new("search", "exact, int8 and HNSW top-10 search over 1,000,000 x 1,024 unit vectors, next to FAISS and hnswlib", SearchSuite.Run),
    new("two-stage", "two-stage retrieval (pooled vectors, top k re-scored) over a 100,000-image synthetic gallery of f8k regions, next to full scoring (--checkpoint SCAN)", TwoStageSuite.Run),
    new("serve-load", "crossmodal serve under N concurrent clients on 127.0.0.1: req/s, p50/p99, errors, memory (SCAN, 1,000 f8k images)", ServeLoadSuite.Run),
    new("mpi", "data-parallel training step time and bytes per step, VSE++ and SCAN (batch 128), 2 ranks under mpirun next to 1", MpiSuite.Run),
];

var byName = suites.ToDictionary(s => s.Name, StringComparer.Ordinal);
var names = new List<string>();
int[] threads = [1, 2];
bool quick = false;
var rest = new List<string>();
try
{
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--threads": threads = Value(i++).Split(',').Select(int.Parse).ToArray(); break;
            case "--quick": quick = true; break;
            case "--openblas-core": Machine.OverrideOpenBlasCore(Value(i++)); break;
            case "--help" or "-h": return Usage(0);
            default:
                if (args[i].StartsWith("--", StringComparison.Ordinal)) rest.Add(args[i]);
                else if (byName.ContainsKey(args[i])) names.Add(args[i]);
                else if (rest.Count > 0 && rest[^1].StartsWith("--", StringComparison.Ordinal)) rest.Add(args[i]); // a suite option's value
                else
                {
                    Console.Error.WriteLine($"unknown suite '{args[i]}'.");
                    return Usage(2);
                }
                break;
        }
    }
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
if (names.Count == 0) return Usage(2);

Console.Error.WriteLine(Machine.Summary);
var ctx = new BenchContext(threads, quick, rest);
int exitCode = 0;
foreach (var name in names)
{
    try
    {
        foreach (var r in byName[name].Run(ctx))
            Console.WriteLine(r.ToJson());
    }
    catch (MissingPrerequisiteException e)
    {
        Console.Error.WriteLine($"{name}: skipped: {e.Message}");
        Console.WriteLine(BenchResult.SkippedJson(name, e.Message));
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"{name}: failed: {e}");
        exitCode = 1;
    }
}
return exitCode;

string Value(int i) => i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");

int Usage(int code)
{
    var text = Console.Error;
    text.WriteLine("usage: CrossModal.Benchmarks SUITE [SUITE...] [--threads 1,2] [--quick] [--openblas-core NAME] [suite options]");
    text.WriteLine("Prints one JSON line per case: value, reference_value, ratio (> 1: we are faster), cpu, vector_bits, openblas_core.");
    text.WriteLine($"References: `{Prerequisites.SetupCommand}` installs them; a suite whose reference is missing is skipped with one line.");
    text.WriteLine("suites:");
    int width = suites.Max(s => s.Name.Length);
    foreach (var s in suites) text.WriteLine($"  {s.Name.PadRight(width)}  {s.Description}");
    return code;
}
