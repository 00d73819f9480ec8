using CrossModal.Benchmarks;
using CrossModal.Benchmarks.Suites;

// Usage: dotnet run -c Release --project benchmarks/CrossModal.Benchmarks -- SUITE [SUITE...] [--threads 1,2] [--quick]
// Prints one JSON line per case (see BenchResult); progress and notes go to stderr.
// (`mpi-rank MODEL STEPS` is the mode the `mpi` suite starts under mpirun, one process per rank.)
if (args.Length == 3 && args[0] == "mpi-rank") return MpiSuite.Rank(args);
var suites = new SortedDictionary<string, Func<BenchContext, IEnumerable<BenchResult>>>(StringComparer.Ordinal)
{
    ["gemm"] = GemmSuite.Run,
    ["gru"] = GruSuite.Run,
    ["tokenize"] = TokenizeSuite.Run,
    ["data-open"] = DataOpenSuite.Run,
    ["scan-train"] = ScanSuite.Train,
    ["scan-score"] = ScanSuite.Score,
    ["vsepp-train"] = VseSuite.Train,
    ["vsepp-eval"] = VseSuite.Eval,
    ["squeezenet"] = SqueezeNetSuite.Run,
    ["category-baselines"] = CategoryBaselinesSuite.Run,
    ["mpi"] = MpiSuite.Run,
};

var names = new List<string>();
int[] threads = { 1, 2 };
bool quick = false;
var rest = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--threads": threads = args[++i].Split(',').Select(int.Parse).ToArray(); break;
        case "--quick": quick = true; break;
        default:
            if (args[i].StartsWith("--", StringComparison.Ordinal)) rest.Add(args[i]);
            else if (suites.ContainsKey(args[i])) names.Add(args[i]);
            else rest.Add(args[i]);
            break;
    }
}
if (names.Count == 0)
{
    Console.Error.WriteLine($"usage: CrossModal.Benchmarks SUITE [SUITE...] [--threads 1,2] [--quick]\nsuites: {string.Join(", ", suites.Keys)}");
    return 2;
}
var ctx = new BenchContext(threads, quick, rest);
foreach (var name in names)
    foreach (var r in suites[name](ctx))
        Console.WriteLine(r.ToJson());
return 0;
