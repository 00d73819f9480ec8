using System.Diagnostics;
using System.Text.Json;

namespace CrossModal.Benchmarks;

/// <summary>
/// Runs a reference script (benchmarks/reference/*.py, Debian's python3-torch) in the same benchmark run and
/// returns the JSON object it prints last. The reference is measured at its best at our width: OpenBLAS runs
/// <see cref="Machine.OpenBlasCore"/> (not the Haswell core this machine's environment pins, half speed on
/// AVX-512; see <see cref="Machine.ReferenceEnvironment"/>), glibc's malloc thresholds are raised (PyTorch otherwise
/// pays for mmap/munmap on every large tensor) and OpenMP threads sleep when idle. Suites check the interpreter
/// first with <see cref="Prerequisites.Python"/>.
/// </summary>
public static class PythonReference
{
    /// <summary>The interpreter with torch (Debian's), overridable with CROSSMODAL_PYTHON.</summary>
    public static string Python => Environment.GetEnvironmentVariable("CROSSMODAL_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> (a path under benchmarks/reference, or "-c") with arguments.</summary>
    public static JsonElement Run(string script, IEnumerable<string> args, int threads, int timeoutSeconds = 3600)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (script == "-c") psi.ArgumentList.Add("-c");
        else psi.ArgumentList.Add(Path.Combine(ReferenceDirectory, script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in Machine.ReferenceEnvironment()) psi.Environment[name] = value;
        psi.Environment["MALLOC_MMAP_THRESHOLD_"] = "4294967296";
        psi.Environment["MALLOC_TRIM_THRESHOLD_"] = "68719476736";
        psi.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString();
        psi.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString();
        psi.Environment["MKL_NUM_THREADS"] = threads.ToString();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {Python}.");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish in {timeoutSeconds} s.");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({p.ExitCode}): {stderr.Result}");
        var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException($"{script} printed no JSON line. stderr: {stderr.Result}");
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    /// <summary>benchmarks/reference in the repository.</summary>
    public static string ReferenceDirectory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CrossModal.slnx"))) dir = dir.Parent;
            return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("CrossModal.slnx not found."), "benchmarks", "reference");
        }
    }
}
