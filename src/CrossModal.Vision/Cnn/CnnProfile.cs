using System.Collections.Concurrent;
using System.Diagnostics;

namespace CrossModal.Vision.Cnn;

/// <summary>
/// Optional timing of a run, for benchmarks: wall time per operator type, and the time Conv spends inside
/// Gemm.Multiply (summed over threads). Off (null) by default; costs two timestamps per step when on.
/// </summary>
internal sealed class CnnProfile
{
    private readonly ConcurrentDictionary<string, long> _ticks = new(StringComparer.Ordinal);
    private long _gemmTicks;

    /// <summary>The profile that runs record into, or null.</summary>
    public static CnnProfile? Current { get; set; }

    public void AddStep(string opType, long ticks) => _ticks.AddOrUpdate(opType, ticks, (_, t) => t + ticks);

    public void AddGemm(long ticks) => Interlocked.Add(ref _gemmTicks, ticks);

    /// <summary>Seconds per operator type (wall time of the steps).</summary>
    public IReadOnlyDictionary<string, double> Seconds => _ticks.ToDictionary(p => p.Key, p => p.Value / (double)Stopwatch.Frequency);

    /// <summary>Seconds spent in Gemm.Multiply by Conv, summed over threads.</summary>
    public double GemmSeconds => Interlocked.Read(ref _gemmTicks) / (double)Stopwatch.Frequency;
}
