namespace CrossModal.Benchmarks;

/// <summary>
/// A benchmark suite as Program lists and runs it: its name on the command line, one line saying what it measures
/// against which reference (shown in the usage text), and the function that yields its results. A suite first
/// checks its references (<see cref="Prerequisites"/>) and may read <see cref="Machine"/>; the machine fields are
/// added to its JSON lines by <see cref="BenchResult"/>.
/// </summary>
public sealed record Suite(string Name, string Description, Func<BenchContext, IEnumerable<BenchResult>> Run);
