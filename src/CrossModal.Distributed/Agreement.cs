using System.Text;

namespace CrossModal.Distributed;

/// <summary>
/// Work that every rank does and that must fail on all ranks together (opening the data, reading a checkpoint):
/// after the work, the ranks exchange whether it failed, and if any did, every rank throws the same
/// <see cref="RankFailedException"/> carrying the lowest failing rank's message, so the job ends cleanly with that
/// message (reported once, by rank 0) instead of leaving the other ranks waiting in their next collective. With one
/// rank the work runs as it is and its exceptions pass unchanged.
/// </summary>
public static class Agreement
{
    /// <summary>
    /// Runs <paramref name="work"/> on every rank; see the class remarks. When another rank failed, a rank whose work
    /// succeeded hands its result to <paramref name="discard"/> (e.g. to close files) before throwing.
    /// </summary>
    public static T Run<T>(ICommunicator ranks, Func<T> work, Action<T>? discard = null)
    {
        if (ranks.Size == 1) return work();
        T result = default!;
        Exception? error = null;
        try { result = work(); }
        catch (Exception e) { error = e; }
        try { Check(ranks, error); }
        catch (RankFailedException) when (error is null && discard is not null)
        {
            discard(result);
            throw;
        }
        return result;
    }

    /// <summary>Runs <paramref name="work"/> on every rank; see the class remarks.</summary>
    public static void Run(ICommunicator ranks, Action work) => Run(ranks, () => { work(); return 0; });

    /// <summary>
    /// The agreement alone: every rank says whether it failed (<paramref name="error"/>); returns when none did,
    /// otherwise throws on every rank.
    /// </summary>
    public static void Check(ICommunicator ranks, Exception? error)
    {
        long[] failed = { error is null ? long.MaxValue : ranks.Rank };
        ranks.AllReduce<long>(failed, ReduceOperation.Min);
        if (failed[0] == long.MaxValue) return;
        int failedRank = (int)failed[0];
        int[] failures = { error is null ? 0 : 1 };
        ranks.AllReduce<int>(failures, ReduceOperation.Sum);
        // The lowest failing rank tells the others what happened; a failure the ranks had already agreed on (a nested
        // agreement) keeps its rank and message.
        var bytes = Array.Empty<byte>();
        int[] header = new int[3];
        if (failedRank == ranks.Rank)
        {
            var (origin, message, every) = error is RankFailedException agreed
                ? (agreed.FailedRank, agreed.RankMessage, agreed.EveryRank)
                : (failedRank, error!.Message, failures[0] == ranks.Size);
            bytes = Encoding.UTF8.GetBytes(message);
            header = new[] { bytes.Length, origin, every ? 1 : 0 };
        }
        ranks.Broadcast<int>(header, failedRank);
        if (bytes.Length != header[0]) bytes = new byte[header[0]];
        ranks.Broadcast<byte>(bytes, failedRank);
        throw new RankFailedException(header[1], Encoding.UTF8.GetString(bytes), header[2] != 0, failedRank == ranks.Rank ? error : null);
    }
}
