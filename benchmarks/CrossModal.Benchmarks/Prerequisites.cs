using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CrossModal.Benchmarks;

/// <summary>
/// Checks that a suite's references are installed before it measures anything, and throws
/// <see cref="MissingPrerequisiteException"/> with what to install when not. benchmarks/setup.sh installs every
/// reference (Debian packages). A suite calls these first, so a skipped suite costs no time.
/// </summary>
public static class Prerequisites
{
    /// <summary>The one command that installs every reference.</summary>
    public const string SetupCommand = "sudo benchmarks/setup.sh";

    /// <summary>Debian package of each Python module the references import.</summary>
    private static readonly Dictionary<string, string> DebianPackages = new(StringComparer.Ordinal)
    {
        ["torch"] = "python3-torch",
        ["numpy"] = "python3-numpy",
        ["nltk"] = "python3-nltk",
        ["faiss"] = "python3-faiss",
        ["hnswlib"] = "python3-hnswlib",
    };

    private static readonly Dictionary<string, bool> ModuleCache = new(StringComparer.Ordinal);
    private static nint _openBlas;

    /// <summary>
    /// Loads OpenBLAS (from $CROSSMODAL_OPENBLAS, default libopenblas.so.0) and returns its handle, or throws.
    /// The caller sets OPENBLAS_CORETYPE first: OpenBLAS picks its kernels when it loads.
    /// </summary>
    public static nint OpenBlas()
    {
        if (_openBlas != 0) return _openBlas;
        string path = Environment.GetEnvironmentVariable("CROSSMODAL_OPENBLAS") is { Length: > 0 } p ? p : "libopenblas.so.0";
        if (!NativeLibrary.TryLoad(path, out _openBlas))
            throw new MissingPrerequisiteException(
                $"OpenBLAS could not be loaded from '{path}' (set CROSSMODAL_OPENBLAS to its path): install the references with `{SetupCommand}` (Debian package libopenblas-dev).");
        return _openBlas;
    }

    /// <summary>Throws unless the reference interpreter exists and can find every module in <paramref name="modules"/>.</summary>
    public static void Python(params string[] modules)
    {
        string python = PythonReference.Python;
        if (Path.IsPathRooted(python) && !File.Exists(python))
            throw new MissingPrerequisiteException(
                $"{python} does not exist (CROSSMODAL_PYTHON names the interpreter): {Install(["python3", .. modules])}.");
        var missing = modules.Where(m => !HasModule(python, m)).ToList();
        if (missing.Count > 0)
            throw new MissingPrerequisiteException($"{python} cannot import {string.Join(", ", missing)}: {Install(missing)}.");
    }

    /// <summary>"install the references with `sudo benchmarks/setup.sh` (Debian package(s) ...)" for these modules.</summary>
    private static string Install(IReadOnlyList<string> modules)
    {
        var packages = modules.Select(m => m == "python3" ? m : DebianPackages.GetValueOrDefault(m, "python3-" + m)).ToList();
        return $"install the references with `{SetupCommand}` (Debian package{(packages.Count > 1 ? "s" : "")} {string.Join(" ", packages)})";
    }

    /// <summary>Throws unless <paramref name="path"/> (a data file or folder under the data root) exists.</summary>
    public static string Data(string path)
    {
        if (File.Exists(path) || Directory.Exists(path)) return path;
        throw new MissingPrerequisiteException($"{path} not found: set CROSSMODAL_DATA to the shared data folder (see its README).");
    }

    /// <summary>Asks the interpreter whether <paramref name="module"/> is installed (find_spec: fast, torch is not imported).</summary>
    private static bool HasModule(string python, string module)
    {
        lock (ModuleCache)
        {
            if (ModuleCache.TryGetValue(module, out bool known)) return known;
            bool found;
            try
            {
                var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add("import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 3)");
                psi.ArgumentList.Add(module);
                using var p = Process.Start(psi);
                if (p is null) found = false;
                else
                {
                    p.StandardOutput.ReadToEnd();
                    p.StandardError.ReadToEnd();
                    found = p.WaitForExit(60_000) && p.ExitCode == 0;
                }
            }
            catch (System.ComponentModel.Win32Exception) { found = false; } // no such interpreter on PATH
            ModuleCache[module] = found;
            return found;
        }
    }
}
