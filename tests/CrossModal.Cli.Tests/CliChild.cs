using System.Diagnostics;
using CrossModal.Tests;

namespace CrossModal.Cli.Tests;

/// <summary>
/// Runs the real <c>crossmodal</c> (crossmodal.dll, built next to this test assembly) as a child process, optionally
/// stopped at an exact point by the crash-test seam (CROSSMODAL_TEST_HALT, see CrossModal.Tensors.IO.TestHalt) and
/// then killed with SIGKILL, as a crash, the out-of-memory killer or a pre-empted machine would end it.
/// </summary>
internal sealed class CliChild : IDisposable
{
    public const string HaltVariable = "CROSSMODAL_TEST_HALT";
    private const string HaltMarker = HaltVariable + " reached: ";

    private readonly Process _process;
    private readonly TaskCompletionSource<string> _halted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _output = new();

    private CliChild(string[] args, string? halt)
    {
        var psi = new ProcessStartInfo(SimdWidths.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "crossmodal.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (halt is not null) psi.Environment[HaltVariable] = halt;
        else psi.Environment.Remove(HaltVariable);
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) =>
        {
            Append(e.Data);
            if (e.Data?.StartsWith(HaltMarker, StringComparison.Ordinal) == true) _halted.TrySetResult(e.Data[HaltMarker.Length..]);
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>What the child printed so far (stdout and stderr interleaved).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static CliChild Start(string? halt, params string[] args) => new(args, halt);

    /// <summary>Runs to the end and returns the exit code.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var child = Start(null, args);
        int exit = await child.WaitForExitAsync();
        return (exit, child.Output);
    }

    /// <summary>Waits for the halt point, then kills the child with SIGKILL; returns where it stopped.</summary>
    public async Task<string> KillAtHaltAsync()
    {
        var exited = _process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var first = await Task.WhenAny(_halted.Task, exited, Task.Delay(TimeSpan.FromMinutes(3), TestContext.Current.CancellationToken));
        if (first != _halted.Task)
        {
            if (first != exited) Kill();
            Assert.Fail($"The child never reached its halt point ({(first == exited ? $"exit code {_process.ExitCode}" : "timeout")}):\n{Output}");
        }
        Assert.True(Kill(), "the halted child must still be running");
        return await _halted.Task;
    }

    /// <summary>SIGKILL (Process.Kill on Unix), then waits until the process is gone; false if it had already exited.</summary>
    public bool Kill()
    {
        if (_process.HasExited) return false;
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
        Assert.True(_process.ExitCode is 128 + 9 or 0, $"exit code {_process.ExitCode}:\n{Output}"); // 137: ended by signal 9, as `kill -9` ends it
        return _process.ExitCode != 0;
    }

    public bool HasExited => _process.HasExited;

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            Kill();
            Assert.Fail($"The child did not finish in 3 minutes:\n{Output}");
        }
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(); } catch (InvalidOperationException) { }
        }
        _process.Dispose();
    }
}
