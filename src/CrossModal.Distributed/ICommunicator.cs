using System.Numerics;

namespace CrossModal.Distributed;

/// <summary>
/// The ranks of a data-parallel job and the collectives they run together (MPI's semantics: every rank calls the
/// same collectives in the same order with matching sizes; a call returns when this rank's part is done). Buffers
/// are laid out in rank order: in <see cref="AllGatherV{T}"/>, <see cref="ReduceScatterV{T}"/> and
/// <see cref="GatherV{T}"/>, rank r's block starts at the sum of the counts of ranks 0..r-1. Results of
/// <see cref="AllReduce{T}"/> are bit-identical on every rank. Implementations: <see cref="SingleProcessCommunicator"/>
/// (one rank), <see cref="InProcess.InProcessWorld"/> (ranks as threads, for tests) and
/// <see cref="Mpi.MpiCommunicator"/> (Open MPI through libmpi.so.40, under mpirun).
/// </summary>
public interface ICommunicator
{
    /// <summary>This process's rank, 0 .. <see cref="Size"/> - 1.</summary>
    int Rank { get; }

    /// <summary>Number of ranks.</summary>
    int Size { get; }

    /// <summary>Bytes and calls so far, by collective (for benchmarks and logs).</summary>
    CommunicationStats Stats { get; }

    /// <summary>Combines <paramref name="data"/> element-wise over the ranks, in place; every rank gets the same result.</summary>
    void AllReduce<T>(Span<T> data, ReduceOperation operation) where T : unmanaged, INumber<T>;

    /// <summary>
    /// Starts summing <paramref name="data"/>[<paramref name="offset"/> .. + <paramref name="count"/>) over the ranks in
    /// place and returns a request to test and wait for (MPI_Iallreduce); the elements must not be touched until the
    /// request has been waited for. Requests complete in the order they were started, and every rank starts the same
    /// ones in the same order. Implementations without real concurrency complete it before returning.
    /// </summary>
    ICollectiveRequest StartAllReduceSum(float[] data, int offset, int count);

    /// <summary>
    /// Concatenates every rank's <paramref name="local"/> (rank r sends counts[r] elements) into
    /// <paramref name="result"/> (the sum of the counts) on every rank.
    /// </summary>
    void AllGatherV<T>(ReadOnlySpan<T> local, Span<T> result, ReadOnlySpan<int> counts) where T : unmanaged;

    /// <summary>
    /// The adjoint of <see cref="AllGatherV{T}"/>: <paramref name="input"/> (the sum of the counts, on every rank)
    /// is summed over the ranks and rank r receives block r (counts[r] elements) in <paramref name="local"/>.
    /// </summary>
    void ReduceScatterV<T>(ReadOnlySpan<T> input, Span<T> local, ReadOnlySpan<int> counts) where T : unmanaged, INumber<T>;

    /// <summary>
    /// Concatenates every rank's <paramref name="local"/> into <paramref name="result"/> on <paramref name="root"/>
    /// only (other ranks may pass an empty result).
    /// </summary>
    void GatherV<T>(ReadOnlySpan<T> local, Span<T> result, ReadOnlySpan<int> counts, int root) where T : unmanaged;

    /// <summary>Copies <paramref name="data"/> from <paramref name="root"/> to every rank.</summary>
    void Broadcast<T>(Span<T> data, int root) where T : unmanaged;

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();

    /// <summary>
    /// Ends the job because this rank failed with <paramref name="message"/>: under MPI the whole job is aborted with
    /// <paramref name="exitCode"/> (this call does not return); in-process, every pending and later collective of the
    /// other ranks throws <see cref="RankFailedException"/> carrying this rank and message, and the call returns so
    /// the caller can rethrow its own exception.
    /// </summary>
    void Abort(string message, int exitCode);
}
