using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace CrossModal.Benchmarks;

/// <summary>
/// What the benchmarks run on, shared by every suite: the CPU (brand string, and for AMD the Zen generation from
/// the CPUID family, since a VM's brand string is often just "AMD EPYC"), the vector width our kernels use in this
/// process (512, 256 or 128 bits: what .NET reports, so DOTNET_EnableAVX512=0 emulates an AVX2-only machine), the
/// OpenBLAS core the references use (chosen from those same features, so a reference never runs wider code than
/// ours and never dies with SIGILL), and the fp32 FMA peak from the measured clock.
/// Every <see cref="BenchResult"/> line carries <see cref="JsonFields"/>; Program prints <see cref="Summary"/> once.
/// A suite needs nothing else: the peak is <see cref="PeakGflopsPerCore"/> times its thread count.
/// </summary>
public static class Machine
{
    private static string? _openBlasCoreOverride;
    private static readonly Lazy<(double ClockGHz, int FmaPipes)> Measured = new(() => ClockMeter.Measure(VectorBits));

    /// <summary>The CPU's brand string (CPUID 0x80000002-4; /proc/cpuinfo's "model name" where CPUID is unavailable).</summary>
    public static string CpuModel { get; } = ReadCpuModel();

    /// <summary>CPUID vendor ("AuthenticAMD", "GenuineIntel") or "" off x86.</summary>
    public static string Vendor { get; } = ReadVendor();

    /// <summary>CPUID display family and model (0 off x86).</summary>
    public static (int Family, int Model) FamilyModel { get; } = ReadFamilyModel();

    /// <summary>AMD's core generation from the family ("Zen 3", "Zen 5"), or null where we do not name it.</summary>
    public static string? Microarchitecture => Vendor == "AuthenticAMD" ? AmdGeneration(FamilyModel.Family, FamilyModel.Model) : null;

    /// <summary>The label a speed table is kept under: brand, generation, family and model.</summary>
    public static string CpuLabel
    {
        get
        {
            var (family, model) = FamilyModel;
            string detail = Microarchitecture is { } zen ? $"{zen}, family {family} model {model}" : $"family {family} model {model}";
            return $"{CpuModel} ({detail})";
        }
    }

    /// <summary>
    /// The widest vectors our kernels use in this process: 512 when .NET accelerates Vector512 and reports
    /// AVX-512F (the GEMM's 12 x 32 kernels), 256 with AVX2 + FMA, else 128 (SSE: Vector128 element-wise kernels,
    /// a scalar GEMM). The same rule as Gemm's kernel choice.
    /// </summary>
    public static int VectorBits { get; } = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 512
        : Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported ? 256 : 128;

    /// <summary>The widest vectors the CPU itself has (CPUID, whatever .NET was told): 512, 256 or 128.</summary>
    public static int HardwareVectorBits { get; } = ReadHardwareVectorBits();

    /// <summary>True when this process runs narrower than the CPU (DOTNET_EnableAVX512=0 or DOTNET_EnableAVX2=0).</summary>
    public static bool Emulated => VectorBits < HardwareVectorBits;

    /// <summary>
    /// The OpenBLAS core type (OPENBLAS_CORETYPE) the references use: SkylakeX when .NET reports AVX-512 F, BW, DQ
    /// and VL (OpenBLAS's SkylakeX kernels need all four); with AVX2 + FMA, Zen on AMD and Haswell elsewhere (the
    /// two share the sgemm kernel, 16 x 6 in ymm registers); Sandybridge with AVX only; Nehalem below. These are
    /// the names OpenBLAS 0.3.21 (Debian 12) accepts. Derived from what .NET reports, not from CPUID, so the
    /// reference runs at the width our side runs at. Overridden by <see cref="OverrideOpenBlasCore"/> (--openblas-core).
    /// </summary>
    public static string OpenBlasCore => _openBlasCoreOverride ?? ChooseOpenBlasCore();

    /// <summary>
    /// Uses <paramref name="core"/> instead of the chosen core (before any reference runs). Refuses a core with
    /// AVX-512 kernels when this process has no AVX-512: the reference would die with SIGILL, not report a number.
    /// </summary>
    public static void OverrideOpenBlasCore(string core)
    {
        bool wants512 = core.Equals("SkylakeX", StringComparison.OrdinalIgnoreCase) || core.Equals("Cooperlake", StringComparison.OrdinalIgnoreCase);
        if (wants512 && VectorBits < 512)
            throw new ArgumentException($"--openblas-core {core} needs AVX-512, which this process does not have (vector width {VectorBits}); use Zen or Haswell.");
        _openBlasCoreOverride = core;
    }

    /// <summary>Core clock in GHz, measured once per process (see <see cref="ClockMeter"/>).</summary>
    public static double ClockGHz => Measured.Value.ClockGHz;

    /// <summary>Vector FMA instructions per cycle at <see cref="VectorBits"/>, measured (2 on Zen 3 and Zen 5; 1 for 512-bit on Zen 4).</summary>
    public static int FmaPipes => Measured.Value.FmaPipes;

    /// <summary>fp32 peak of one core at our vector width: FMA pipes x lanes x 2 flops x clock, in GFLOP/s.</summary>
    public static double PeakGflopsPerCore => FmaPipes * (VectorBits / 32) * 2 * ClockGHz;

    /// <summary>One line for stderr: CPU, widths, reference core, clock and peak.</summary>
    public static string Summary =>
        string.Create(CultureInfo.InvariantCulture,
            $"machine: {CpuLabel}, {Environment.ProcessorCount} cores; our vectors {VectorBits}-bit (CPU {HardwareVectorBits}-bit{(Emulated ? ", narrower width emulated" : "")}); " +
            $"OpenBLAS core {OpenBlasCore}; clock {ClockGHz:F2} GHz (measured), {FmaPipes} FMA/cycle, fp32 peak {PeakGflopsPerCore:F0} GFLOP/s per core");

    /// <summary>The fields every JSON result line carries.</summary>
    public static IReadOnlyList<KeyValuePair<string, object>> JsonFields =>
    [
        new("cpu", CpuLabel),
        new("vector_bits", VectorBits),
        new("openblas_core", OpenBlasCore),
    ];

    /// <summary>
    /// Environment for a Python reference so that it runs at the width our side runs at: OpenBLAS pinned to
    /// <see cref="OpenBlasCore"/> (on a machine whose .NET sees the whole CPU this is the core OpenBLAS picks for
    /// fp32 by itself: Debian's 0.3.21 picks Cooperlake on Zen 4/5, whose sgemm is SkylakeX's), and when a narrower
    /// width is emulated also PyTorch's own vector code and oneDNN capped to it.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> ReferenceEnvironment()
    {
        yield return new("OPENBLAS_CORETYPE", OpenBlasCore);
        if (!Emulated) yield break;
        yield return new("ATEN_CPU_CAPABILITY", VectorBits >= 256 ? "avx2" : "default");
        yield return new("DNNL_MAX_CPU_ISA", VectorBits >= 256 ? "AVX2" : "SSE41");
    }

    private static string ChooseOpenBlasCore()
    {
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported) return "SkylakeX";
        if (Avx2.IsSupported && Fma.IsSupported) return Vendor == "AuthenticAMD" ? "Zen" : "Haswell";
        if (Avx.IsSupported) return "Sandybridge";
        return "Nehalem";
    }

    /// <summary>AMD family 17h is Zen/Zen 2, 19h Zen 3 or Zen 4 (by model range), 1Ah Zen 5.</summary>
    private static string? AmdGeneration(int family, int model) => family switch
    {
        0x17 => model >= 0x30 ? "Zen 2" : "Zen",
        0x19 => model is >= 0x10 and <= 0x1F or >= 0x60 and <= 0x7F or >= 0xA0 and <= 0xAF ? "Zen 4" : "Zen 3",
        0x1A => "Zen 5",
        _ => null,
    };

    private static string ReadVendor()
    {
        if (!X86Base.IsSupported) return "";
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<byte> bytes = stackalloc byte[12];
        BitConverter.TryWriteBytes(bytes, ebx);
        BitConverter.TryWriteBytes(bytes[4..], edx);
        BitConverter.TryWriteBytes(bytes[8..], ecx);
        return Encoding.ASCII.GetString(bytes);
    }

    private static (int, int) ReadFamilyModel()
    {
        if (!X86Base.IsSupported) return (0, 0);
        int eax = X86Base.CpuId(1, 0).Eax;
        int family = (eax >> 8) & 0xF, model = (eax >> 4) & 0xF;
        if (family == 0xF) family += (eax >> 20) & 0xFF;
        if (family >= 0x6) model |= ((eax >> 16) & 0xF) << 4;
        return (family, model);
    }

    private static int ReadHardwareVectorBits()
    {
        if (!X86Base.IsSupported) return VectorBits;
        int ebx7 = X86Base.CpuId(0, 0).Eax >= 7 ? X86Base.CpuId(7, 0).Ebx : 0;
        int ecx1 = X86Base.CpuId(1, 0).Ecx;
        bool avx512 = (ebx7 & (1 << 16)) != 0 && (ebx7 & (1 << 17)) != 0 && (ebx7 & (1 << 30)) != 0 && (ebx7 & (1 << 31)) != 0;
        bool avx2Fma = (ebx7 & (1 << 5)) != 0 && (ecx1 & (1 << 12)) != 0;
        return Math.Max(VectorBits, avx512 ? 512 : avx2Fma ? 256 : 128);
    }

    private static string ReadCpuModel()
    {
        if (X86Base.IsSupported && (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax >= 0x80000004)
        {
            var bytes = new byte[48];
            for (int i = 0; i < 3; i++)
            {
                var (a, b, c, d) = X86Base.CpuId(unchecked((int)0x80000002) + i, 0);
                BitConverter.TryWriteBytes(bytes.AsSpan(16 * i), a);
                BitConverter.TryWriteBytes(bytes.AsSpan(16 * i + 4), b);
                BitConverter.TryWriteBytes(bytes.AsSpan(16 * i + 8), c);
                BitConverter.TryWriteBytes(bytes.AsSpan(16 * i + 12), d);
            }
            string brand = Encoding.ASCII.GetString(bytes).TrimEnd('\0').Trim();
            if (brand.Length > 0) return brand;
        }
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown CPU";
    }
}
