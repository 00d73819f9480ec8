using System.Diagnostics;

namespace CrossModal.Distributed;

/// <summary>
/// What one rank's collectives moved, by kind: calls, payload bytes (the logical size of the collective: the buffer
/// of an all-reduce or broadcast, the whole concatenation of an all-gather, reduce-scatter or gather) and seconds
/// spent inside the calls (waiting for slower ranks included). <see cref="WireBytes"/> turns payloads into what a
/// bandwidth-optimal algorithm (ring) sends per rank. Not thread-safe: one rank calls its collectives from one thread.
/// </summary>
public sealed class CommunicationStats
{
    private static readonly int Kinds = Enum.GetValues<CollectiveKind>().Length;
    private readonly long[] _calls = new long[Kinds];
    private readonly long[] _bytes = new long[Kinds];
    private readonly long[] _ticks = new long[Kinds];

    /// <summary>Calls of <paramref name="kind"/> so far.</summary>
    public long Calls(CollectiveKind kind) => _calls[(int)kind];

    /// <summary>Payload bytes of <paramref name="kind"/> so far.</summary>
    public long PayloadBytes(CollectiveKind kind) => _bytes[(int)kind];

    /// <summary>Seconds spent in <paramref name="kind"/> so far.</summary>
    public double Seconds(CollectiveKind kind) => _ticks[(int)kind] / (double)Stopwatch.Frequency;

    /// <summary>Seconds spent in all collectives so far.</summary>
    public double TotalSeconds => _ticks.Sum() / (double)Stopwatch.Frequency;

    /// <summary>
    /// Bytes each rank sends (and receives) with ring algorithms for the payloads so far among
    /// <paramref name="ranks"/> ranks: an all-reduce of S bytes moves 2 (N-1)/N S (reduce-scatter, then all-gather),
    /// an all-gather or reduce-scatter of a T-byte concatenation (N-1)/N T, a broadcast S, a gather (N-1)/N T (at
    /// the root).
    /// </summary>
    public double WireBytes(int ranks)
    {
        if (ranks <= 1) return 0;
        double f = (ranks - 1) / (double)ranks;
        return 2 * f * PayloadBytes(CollectiveKind.AllReduce) + f * PayloadBytes(CollectiveKind.AllGather)
            + f * PayloadBytes(CollectiveKind.ReduceScatter) + f * PayloadBytes(CollectiveKind.Gather) + PayloadBytes(CollectiveKind.Broadcast);
    }

    /// <summary>A copy of the counters now (subtract two snapshots for one step's traffic).</summary>
    public CommunicationStats Snapshot()
    {
        var s = new CommunicationStats();
        _calls.CopyTo(s._calls, 0);
        _bytes.CopyTo(s._bytes, 0);
        _ticks.CopyTo(s._ticks, 0);
        return s;
    }

    /// <summary>The counters of this snapshot minus those of an earlier one.</summary>
    public CommunicationStats Since(CommunicationStats earlier)
    {
        var s = Snapshot();
        for (int i = 0; i < _calls.Length; i++)
        {
            s._calls[i] -= earlier._calls[i];
            s._bytes[i] -= earlier._bytes[i];
            s._ticks[i] -= earlier._ticks[i];
        }
        return s;
    }

    /// <summary>Counts one call (used by the communicators).</summary>
    internal void Add(CollectiveKind kind, long bytes, long startTimestamp)
    {
        _calls[(int)kind]++;
        _bytes[(int)kind] += bytes;
        _ticks[(int)kind] += Stopwatch.GetTimestamp() - startTimestamp;
    }
}
