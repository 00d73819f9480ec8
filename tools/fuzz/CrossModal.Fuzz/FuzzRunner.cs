using System.Diagnostics;
using System.Text;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;

namespace CrossModal.Fuzz;

/// <summary>
/// Runs a target's inputs and judges each (see <see cref="FuzzTarget"/>). Input i of a target is a pure function of
/// (seed, target name, i): its own generator picks a seed file and mutates it, so any share of the sequence (the
/// first 300 in CI, 10,000 in the full run) and any single input (--replay) are reproduced exactly. The parsers run
/// on this thread with <see cref="Parallelism"/> at one thread, so the managed bytes they allocate are measured
/// exactly. Failing inputs are saved with the command that replays them.
/// </summary>
public sealed class FuzzRunner
{
    /// <summary>The seed of the project's runs (CI and the full run use the same).</summary>
    public const ulong DefaultSeed = 0x5eed_c0de_2024;

    private readonly string _work;
    private readonly string? _crashes;
    private readonly object _gate = new();
    private (FuzzTarget Target, FuzzInput Input, long Started)? _current;

    /// <summary>A runner writing on-disk inputs under <paramref name="workFolder"/> and failures under <paramref name="crashFolder"/> (null: not saved).</summary>
    public FuzzRunner(ulong seed, string workFolder, string? crashFolder)
    {
        Seed = seed;
        _work = workFolder;
        _crashes = crashFolder;
    }

    /// <summary>The master seed.</summary>
    public ulong Seed { get; }

    /// <summary>
    /// When set, a watchdog ends the process (exit code 3) if one input runs longer, after saving it: a hang cannot
    /// be stopped from inside. Only the command-line runner sets it; tests rely on their timeout.
    /// </summary>
    public TimeSpan? HangLimit { get; init; }

    /// <summary>Input <paramref name="index"/> of <paramref name="target"/> for <paramref name="seed"/>.</summary>
    public static FuzzInput Generate(FuzzTarget target, ulong seed, int index)
    {
        var rng = new Rng(InputSeed(seed, target.Name, index));
        var source = target.Seeds[rng.NextInt(target.Seeds.Count)];
        var (files, how) = target.Mutate(source, rng);
        return new FuzzInput(index, source.Name, files, how);
    }

    /// <summary>Runs the seeds (they must all load), then inputs [start, start + count).</summary>
    public TargetReport Run(FuzzTarget target, int start, int count, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        Parallelism.Threads = 1;
        var report = new TargetReport(target);
        var clock = Stopwatch.StartNew();
        using var watchdog = StartWatchdog();
        for (int s = 0; s < target.Seeds.Count; s++)
        {
            var seed = target.Seeds[s];
            var input = new FuzzInput(-1 - s, seed.Name, seed.Files, "unmutated seed");
            var outcome = RunOne(target, input);
            if (outcome.Kind != "loaded")
            {
                var failed = outcome with { Kind = "seed", Message = $"the unmutated seed {seed.Name} does not load: {outcome.Message}" };
                report.Failures.Add((input.Index, input.How, failed));
                Save(target, input, failed);
            }
        }
        for (int i = start; i < start + count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var input = Generate(target, Seed, i);
            var outcome = RunOne(target, input);
            report.Add(input, outcome);
            if (!outcome.Passed)
            {
                Save(target, input, outcome);
                log?.Invoke($"FAILURE {target.Name} #{i} ({input.Seed}: {input.How}): {FirstLine(outcome.Message)}");
            }
        }
        report.Seconds = clock.Elapsed.TotalSeconds;
        return report;
    }

    /// <summary>Runs one input and judges it.</summary>
    public FuzzOutcome RunOne(FuzzTarget target, FuzzInput input)
    {
        string location;
        if (target.OnDisk)
        {
            location = Path.Combine(_work, target.Name);
            if (Directory.Exists(location)) Directory.Delete(location, recursive: true);
            Directory.CreateDirectory(location);
            foreach (var (name, bytes) in input.Files) File.WriteAllBytes(Path.Combine(location, name), bytes);
        }
        else location = $"{target.Name}#{input.Index}";

        lock (_gate) _current = (target, input, Stopwatch.GetTimestamp());
        long before = GC.GetAllocatedBytesForCurrentThread();
        long started = Stopwatch.GetTimestamp();
        string kind, message = "";
        try
        {
            target.Parse(input, location);
            kind = "loaded";
        }
        catch (InvalidDataException e)
        {
            // A byte parser's message starts with "name: "; a file parser's with a path in the input's folder.
            bool named = target.OnDisk ? e.Message.StartsWith(location, StringComparison.Ordinal) : e.Message.StartsWith(location + ": ", StringComparison.Ordinal);
            kind = named ? "refused" : "unnamed";
            message = named ? e.Message : $"InvalidDataException without the input's name ({location}): {e.Message}\n{e.StackTrace}";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            kind = "exception";
            message = $"{e.GetType().FullName}: {e.Message}\n{e.StackTrace}";
        }
        double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        lock (_gate) _current = null;
        long budget = target.Budget(input.TotalBytes);
        if (kind is "loaded" or "refused" && allocated > budget)
        {
            message = $"allocated {allocated:N0} bytes for a {input.TotalBytes:N0}-byte input (budget {budget:N0}: {target.BudgetReason}); outcome was {kind}: {message}";
            kind = "allocation";
        }
        return new FuzzOutcome(kind, message, allocated, ms);
    }

    /// <summary>Saves a failing input's files and what happened, with the command that replays it.</summary>
    public string? Save(FuzzTarget target, FuzzInput input, FuzzOutcome outcome)
    {
        if (_crashes is null) return null;
        string dir = Path.Combine(_crashes, target.Name, input.Index >= 0 ? $"{input.Index:D6}" : $"seed{-1 - input.Index}");
        Directory.CreateDirectory(dir);
        foreach (var (name, bytes) in input.Files) File.WriteAllBytes(Path.Combine(dir, name), bytes);
        var text = new StringBuilder();
        text.AppendLine($"parser: {target.Name} ({target.Api})");
        text.AppendLine($"input: #{input.Index} from seed file {input.Seed}, runner seed 0x{Seed:x}");
        text.AppendLine($"mutations: {input.How}");
        text.AppendLine($"outcome: {outcome.Kind}, {outcome.AllocatedBytes:N0} bytes allocated, {outcome.Milliseconds:F1} ms");
        text.AppendLine($"replay: dotnet run -c Release --project tools/fuzz/CrossModal.Fuzz -- --parser {target.Name} --seed 0x{Seed:x} --replay {input.Index}");
        text.AppendLine();
        text.AppendLine(outcome.Message);
        File.WriteAllText(Path.Combine(dir, "failure.txt"), text.ToString());
        return dir;
    }

    private IDisposable? StartWatchdog()
    {
        if (HangLimit is not { } limit) return null;
        var stop = new CancellationTokenSource();
        var thread = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                (FuzzTarget Target, FuzzInput Input, long Started)? current;
                lock (_gate) current = _current;
                if (current is { } c && Stopwatch.GetElapsedTime(c.Started) > limit)
                {
                    var outcome = new FuzzOutcome("hang", $"still running after {limit.TotalSeconds:F0} s", 0, Stopwatch.GetElapsedTime(c.Started).TotalMilliseconds);
                    string? dir = Save(c.Target, c.Input, outcome);
                    Console.Error.WriteLine($"HANG {c.Target.Name} #{c.Input.Index} ({c.Input.Seed}: {c.Input.How}): running for more than {limit.TotalSeconds:F0} s; saved to {dir}");
                    Environment.Exit(3);
                }
                stop.Token.WaitHandle.WaitOne(500);
            }
        }) { IsBackground = true, Name = "fuzz watchdog" };
        thread.Start();
        return new Stopper(stop, thread);
    }

    private sealed class Stopper(CancellationTokenSource stop, Thread thread) : IDisposable
    {
        public void Dispose()
        {
            stop.Cancel();
            thread.Join();
            stop.Dispose();
        }
    }

    private static string FirstLine(string s) => s.Split('\n')[0];

    /// <summary>A 64-bit seed for one input: FNV-1a of the target's name and the master seed, hashed with the index.</summary>
    private static ulong InputSeed(ulong seed, string target, int index)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(target))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return Mix(Mix(seed ^ h) + (ulong)index);
    }

    // splitmix64's finaliser: neighbouring values give unrelated outputs.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
