using System.Runtime.InteropServices;

namespace CrossModal.Benchmarks.Native;

/// <summary>
/// The OpenBLAS reference (Debian's libopenblas0), reached through P/Invoke from the benchmark only: the engine
/// itself never depends on a native BLAS. The library is loaded by <see cref="Prerequisites.OpenBlas"/> (from
/// $CROSSMODAL_OPENBLAS or libopenblas.so.0; a missing library skips the suite with one line), and the P/Invoke
/// declarations are resolved to that handle. OpenBLAS picks its kernels once, when the library loads, from
/// OPENBLAS_CORETYPE or its own CPU detection (Debian's 0.3.21 does not know Zen 5; this machine's environment
/// pins Haswell), so <see cref="Load"/> sets <see cref="Machine.OpenBlasCore"/> in the native environment first.
/// </summary>
internal static unsafe partial class OpenBlas
{
    private const string Library = "libopenblas.so.0";
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;
    private static string? _core;

    /// <summary>Loads OpenBLAS with <see cref="Machine.OpenBlasCore"/> and returns the core it reports.</summary>
    public static string Load()
    {
        if (_core is not null) return _core;
        // Environment.SetEnvironmentVariable only changes .NET's copy; OpenBLAS reads the C environment.
        if (setenv("OPENBLAS_CORETYPE", Machine.OpenBlasCore, 1) != 0) throw new InvalidOperationException("setenv failed.");
        nint handle = Prerequisites.OpenBlas();
        NativeLibrary.SetDllImportResolver(typeof(OpenBlas).Assembly,
            (name, _, _) => name == Library ? handle : 0);
        _core = Marshal.PtrToStringAnsi(openblas_get_corename()) ?? "unknown";
        return _core;
    }

    /// <summary>Threads OpenBLAS uses from now on.</summary>
    public static void SetThreads(int threads) => openblas_set_num_threads(threads);

    /// <summary>Row-major C = alpha op(A) op(B) + beta C.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc) =>
        cblas_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    [LibraryImport(Library)]
    private static partial void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Library)]
    private static partial void openblas_set_num_threads(int threads);

    [LibraryImport(Library)]
    private static partial nint openblas_get_corename();

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
