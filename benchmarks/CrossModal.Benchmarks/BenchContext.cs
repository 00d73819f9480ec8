namespace CrossModal.Benchmarks;

/// <summary>What a suite gets: thread counts to measure, a quick flag (fewer repetitions), and its arguments.</summary>
public sealed record BenchContext(int[] ThreadCounts, bool Quick, IReadOnlyList<string> Arguments)
{
    /// <summary>The value after <paramref name="name"/> in the suite's arguments (its first occurrence), or null.</summary>
    public string? Option(string name)
    {
        for (int i = 0; i + 1 < Arguments.Count; i++)
            if (Arguments[i] == name) return Arguments[i + 1];
        return null;
    }

    /// <summary>Where real data is: $CROSSMODAL_DATA or ../shared/data above the repository.</summary>
    public static string DataRoot
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("CROSSMODAL_DATA");
            if (!string.IsNullOrEmpty(env)) return env;
            return Path.GetFullPath(Path.Combine(PythonReference.ReferenceDirectory, "..", "..", "..", "shared", "data"));
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> repeatedly and returns the best time in seconds (after one warm-up), by the
    /// wall clock or by <paramref name="clock"/> (seconds from any origin, e.g. the thread's CPU time).
    /// </summary>
    public double BestSeconds(Action action, int repetitions = 5, double minSeconds = 0.5, Func<double>? clock = null)
    {
        action();
        double best = double.MaxValue;
        var total = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < (Quick ? Math.Max(1, repetitions / 3) : repetitions) || total.Elapsed.TotalSeconds < (Quick ? minSeconds / 5 : minSeconds); i++)
        {
            if (clock is not null)
            {
                double start = clock();
                action();
                best = Math.Min(best, clock() - start);
            }
            else
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                action();
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            if (i > 200) break;
        }
        return best;
    }

    /// <summary>
    /// The 1-minute load average (/proc/loadavg) or null where there is none: printed with results measured on a
    /// shared machine so that a noisy run can be recognised.
    /// </summary>
    public static double? LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
