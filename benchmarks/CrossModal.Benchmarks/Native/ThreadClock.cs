using System.Runtime.InteropServices;

namespace CrossModal.Benchmarks.Native;

/// <summary>
/// CPU time of the calling thread (Linux clock_gettime(CLOCK_THREAD_CPUTIME_ID)): unlike the wall clock it does not
/// count the time the thread waits while other processes run on a shared machine (it still counts what they do to
/// the caches). Only meaningful for work that runs entirely on the calling thread (1-thread cases).
/// </summary>
internal static unsafe partial class ThreadClock
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>True where the clock exists (Linux).</summary>
    public static bool Available => OperatingSystem.IsLinux();

    /// <summary>The calling thread's CPU time in seconds.</summary>
    public static double Seconds()
    {
        Timespec ts;
        if (clock_gettime(ClockThreadCpuTimeId, &ts) != 0) throw new InvalidOperationException("clock_gettime failed.");
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc")]
    private static partial int clock_gettime(int clock, Timespec* time);
}
