using CrossModal.Distributed;
using CrossModal.Distributed.Mpi;
using CrossModal.Training;

namespace CrossModal.Cli;

/// <summary>
/// The ranks this `crossmodal` process belongs to: MPI_COMM_WORLD when mpirun started it (Open MPI's environment
/// says so), otherwise one process. Rank 0 prints and writes; the others stay quiet. Failures: one every rank saw
/// (the ranks agreed on it, or the loss diverged, which every rank computes the same) is reported once by rank 0 and
/// every rank exits with the error code; any other failure is reported by the rank it happened on, which then aborts
/// the job (MPI_Abort), so no rank is left waiting for it.
/// </summary>
internal sealed class RankSession : IDisposable
{
    private static RankSession? _current;
    private readonly MpiCommunicator? _mpi;

    private RankSession(ICommunicator ranks, MpiCommunicator? mpi)
    {
        Ranks = ranks;
        _mpi = mpi;
    }

    /// <summary>The ranks.</summary>
    public ICommunicator Ranks { get; }

    /// <summary>Whether this process prints results and writes files (rank 0).</summary>
    public bool IsRoot => Ranks.Rank == 0;

    /// <summary>Worker threads per process by default: all cores alone, this machine's share of them under mpirun.</summary>
    public static int DefaultThreads => MpiEnvironment.Launched ? MpiEnvironment.DefaultThreads : Environment.ProcessorCount;

    /// <summary>Joins the job mpirun started, or starts a one-process session.</summary>
    public static RankSession Start()
    {
        var mpi = MpiEnvironment.Launched ? MpiCommunicator.Initialize() : null;
        return _current = new RankSession(mpi is not null ? mpi : new SingleProcessCommunicator(), mpi);
    }

    /// <summary>
    /// Whether this process should print <paramref name="error"/>: always in one process; under mpirun only rank 0
    /// prints an error every rank saw.
    /// </summary>
    public static bool Reports(Exception error) =>
        _current is not { Ranks.Size: > 1 } s || s.IsRoot || !EveryRankSaw(error);

    /// <summary>Runs a command's body: a failure only this rank saw is printed here and aborts the job.</summary>
    public int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (Ranks.Size > 1 && !EveryRankSaw(e))
        {
            bool known = e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or IOException
                or UnauthorizedAccessException or CliException;
            Console.Error.WriteLine($"rank {Ranks.Rank}: error: {(known ? e.Message : e.ToString())}");
            Ranks.Abort(e.Message, CliApp.DataError);
            throw;
        }
    }

    private static bool EveryRankSaw(Exception e) => e is RankFailedException or TrainingDivergedException;

    /// <summary>Finalises MPI.</summary>
    public void Dispose()
    {
        _mpi?.Dispose();
    }
}
