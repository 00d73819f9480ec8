using System.Runtime.InteropServices;

namespace CrossModal.Distributed.Mpi;

/// <summary>
/// The few Open MPI entry points CrossModal calls, bound to Debian's libmpi.so.40 (openmpi-bin, libopenmpi-dev).
/// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of exported globals
/// (ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_op_sum), read with <see cref="NativeLibrary.GetExport"/>;
/// MPI_IN_PLACE is the address 1. No C shim is needed.
/// </summary>
internal static unsafe partial class MpiNative
{
    public const string Library = "libmpi.so.40";

    /// <summary>MPI_THREAD_FUNNELED: only the thread that initialised MPI calls it (the engine's worker threads never do).</summary>
    public const int ThreadFunneled = 1;

    public static readonly nint InPlace = 1;

    [LibraryImport(Library)] public static partial int MPI_Init_thread(int* argc, nint* argv, int required, int* provided);
    [LibraryImport(Library)] public static partial int MPI_Initialized(int* flag);
    [LibraryImport(Library)] public static partial int MPI_Finalized(int* flag);
    [LibraryImport(Library)] public static partial int MPI_Finalize();
    [LibraryImport(Library)] public static partial int MPI_Comm_rank(nint comm, int* rank);
    [LibraryImport(Library)] public static partial int MPI_Comm_size(nint comm, int* size);
    [LibraryImport(Library)] public static partial int MPI_Allreduce(void* send, void* receive, int count, nint type, nint op, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Allgatherv(void* send, int sendCount, nint sendType, void* receive, int* receiveCounts, int* displacements, nint receiveType, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Reduce_scatter(void* send, void* receive, int* receiveCounts, nint type, nint op, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Gatherv(void* send, int sendCount, nint sendType, void* receive, int* receiveCounts, int* displacements, nint receiveType, int root, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Bcast(void* buffer, int count, nint type, int root, nint comm);
    [LibraryImport(Library)] public static partial int MPI_Barrier(nint comm);
    [LibraryImport(Library)] public static partial int MPI_Abort(nint comm, int errorCode);
    [LibraryImport(Library)] public static partial int MPI_Iallreduce(void* send, void* receive, int count, nint type, nint op, nint comm, nint* request);
    [LibraryImport(Library)] public static partial int MPI_Test(nint* request, int* flag, void* status);
    [LibraryImport(Library)] public static partial int MPI_Wait(nint* request, void* status);

    /// <summary>The address of an exported Open MPI global (a predefined handle).</summary>
    public static nint Handle(string symbol)
    {
        var lib = NativeLibrary.Load(Library);
        return NativeLibrary.GetExport(lib, symbol);
    }

    /// <summary>Whether libmpi.so.40 can be loaded here.</summary>
    public static bool Available(out string? error)
    {
        if (NativeLibrary.TryLoad(Library, out _))
        {
            error = null;
            return true;
        }
        error = $"{Library} could not be loaded (install Open MPI: apt-get install openmpi-bin libopenmpi-dev)";
        return false;
    }

    /// <summary>Throws when an MPI call reports an error (MPI's default handler aborts first; this catches the rest).</summary>
    public static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error code {code}.");
    }
}
