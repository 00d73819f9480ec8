using System.Globalization;

namespace CrossModal.Distributed.Mpi;

/// <summary>
/// What mpirun tells a process through its environment (Open MPI's OMPI_COMM_WORLD_* variables; PMIx's PMIX_RANK
/// under other launchers), read before MPI is initialised: whether to initialise it at all, and how many ranks share
/// this machine (so each takes its share of the cores).
/// </summary>
public static class MpiEnvironment
{
    /// <summary>True when this process was started by mpirun (or another MPI launcher).</summary>
    public static bool Launched =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 } || Environment.GetEnvironmentVariable("PMIX_RANK") is { Length: > 0 };

    /// <summary>The job's size as the launcher announced it (1 without a launcher).</summary>
    public static int WorldSize => Read("OMPI_COMM_WORLD_SIZE") ?? 1;

    /// <summary>Ranks on this machine (1 without a launcher).</summary>
    public static int LocalSize => Read("OMPI_COMM_WORLD_LOCAL_SIZE") ?? 1;

    /// <summary>
    /// Worker threads each rank should use by default: this machine's cores divided among its ranks (at least 1),
    /// so that N ranks on one machine do not oversubscribe it.
    /// </summary>
    public static int DefaultThreads => Math.Max(1, Environment.ProcessorCount / Math.Max(1, LocalSize));

    private static int? Read(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : null;
}
