namespace CrossModal.Distributed;

/// <summary>
/// A rank failed and the job ends: <see cref="FailedRank"/> (the lowest one that failed) and its message. Every rank of
/// the job sees the same exception, so one of them (rank 0) reports it. When every rank failed (the same bad option or
/// file everywhere) the message is rank 0's own, without the rank.
/// </summary>
public sealed class RankFailedException(int failedRank, string rankMessage, bool everyRank = false, Exception? inner = null)
    : Exception(everyRank ? rankMessage : $"rank {failedRank}: {rankMessage}", inner)
{
    /// <summary>The rank whose failure ended the job (the lowest, when several failed).</summary>
    public int FailedRank { get; } = failedRank;

    /// <summary>That rank's own message.</summary>
    public string RankMessage { get; } = rankMessage;

    /// <summary>Whether every rank failed.</summary>
    public bool EveryRank { get; } = everyRank;
}
