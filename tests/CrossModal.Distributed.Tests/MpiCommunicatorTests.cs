using CrossModal.Distributed.Mpi;
using CrossModal.Tests;

namespace CrossModal.Distributed.Tests;

/// <summary>
/// The Open MPI binding (P/Invoke on libmpi.so.40) keeps the same contract as the in-process world: this test starts
/// mpirun with 3 ranks on this test assembly (an xunit v3 executable), running <see cref="Should_KeepTheCollectivesContract_AsAnMpiRank"/>
/// on every rank; that test only runs inside mpirun.
/// </summary>
public class MpiCommunicatorTests
{
    [Fact]
    public async Task Should_KeepTheCollectivesContract_UnderMpirun()
    {
        MpiRun.Require();
        string method = $"{typeof(MpiCommunicatorTests).FullName}.{nameof(Should_KeepTheCollectivesContract_AsAnMpiRank)}";
        var (exit, output, error) = await MpiRun.Run(3, typeof(MpiCommunicatorTests).Assembly.Location,
            new[] { "-method", method, "-noLogo", "-noColor" }, TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"mpirun exited with {exit}:\n{output}\n{error}");
        // Every rank ran the test (and none was skipped).
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(output, @"Total: 1, Errors: 0, Failed: 0, Skipped: 0").Count);
    }

    [Fact]
    public void Should_KeepTheCollectivesContract_AsAnMpiRank()
    {
        Assert.SkipUnless(MpiRun.IsRank, "Runs on the ranks Should_KeepTheCollectivesContract_UnderMpirun starts.");
        using var c = MpiCommunicator.Initialize();
        Assert.Equal(3, c.Size);
        CollectiveChecks.All(c);
        // Collectives come from the thread that initialised MPI (MPI_THREAD_FUNNELED); another thread is refused.
        // (A thread of its own: a task could be inlined on this very thread.)
        Exception? error = null;
        var other = new Thread(() =>
        {
            try { c.Barrier(); }
            catch (InvalidOperationException e) { error = e; }
        });
        other.Start();
        other.Join();
        Assert.Contains("MPI_THREAD_FUNNELED", Assert.IsType<InvalidOperationException>(error).Message);

    }
}
