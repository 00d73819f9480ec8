using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CrossModal.Benchmarks;

/// <summary>
/// Measures the core clock and the vector FMA throughput, for the fp32 peak (FMA pipes x lanes x 2 x clock).
/// Why measure instead of reading /proc/cpuinfo: on our VMs "cpu MHz" is the nominal TSC rate (2096 MHz on the
/// Zen 5 VM), not the boost clock the cores run at (about 3.4 GHz there), and it says nothing when the host
/// changes frequency. The clock comes from a chain of dependent integer add and xor instructions: each has one
/// cycle of latency on every x86 core, so the chain runs one instruction per cycle whatever the number of
/// execution ports, and its length divided by its Stopwatch time is the clock. (A dependent FMA chain would need
/// the FMA latency, which differs between cores: 4 cycles on Zen 3-5 and Skylake, 5 on Haswell and Zen 2.) The
/// FMA pipes are then 12 independent FMA chains' instructions per cycle, rounded: this catches Zen 4, which has
/// AVX-512 but issues one 512-bit FMA per cycle. Each is the third best of 40 short runs, interleaved, so
/// preempted runs on a shared machine do not count. Takes about 30 ms, once per process.
/// </summary>
internal static class ClockMeter
{
    private const int ChainOpsPerIteration = 32;
    private const int FmasPerIteration = 12;

    /// <summary>Clock in GHz and vector FMA instructions per cycle at <paramref name="vectorBits"/>.</summary>
    public static (double ClockGHz, int FmaPipes) Measure(int vectorBits)
    {
        // ~0.4 ms per run (1.6 M cycles at 3.6 GHz), best of 40: with 10+ runnable threads on 2 cores (seen on the
        // shared machine) runs of 5 ms were nearly all preempted and read 1.9 GHz; runs this short mostly are not.
        const long chainIterations = 50_000, fmaIterations = 150_000;
        const int runs = 40;
        ulong a = (ulong)Environment.TickCount64 | 1, b = a ^ 0x9E3779B97F4A7C15UL; // unknown to the JIT: nothing folds
        bool fma = Fma.IsSupported;
        DependentChain(chainIterations, a, b); // JIT and warm-up
        if (fma) FmaRun(vectorBits, fmaIterations);
        var chainSeconds = new double[runs];
        var fmaSeconds = new double[runs];
        // Interleaved, so that both see the same moments of the machine.
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            DependentChain(chainIterations, a, b);
            chainSeconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (!fma) continue;
            start = Stopwatch.GetTimestamp();
            FmaRun(vectorBits, fmaIterations);
            fmaSeconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        // The third-fastest run: the fastest ones are unpreempted, and a single odd reading does not count.
        Array.Sort(chainSeconds);
        Array.Sort(fmaSeconds);
        double bestChain = chainSeconds[2], bestFma = fmaSeconds[2];
        double clockGHz = ChainOpsPerIteration * chainIterations / bestChain / 1e9;
        // Without FMA (the scalar emulation) there is nothing to count; every core with AVX2 has 2 FMA pipes.
        if (!fma) return (clockGHz, 2);
        double perCycle = FmasPerIteration * fmaIterations / bestFma / (clockGHz * 1e9);
        return (clockGHz, Math.Clamp((int)Math.Round(perCycle), 1, 4));
    }

    private static void FmaRun(int vectorBits, long iterations)
    {
        switch (vectorBits)
        {
            case 512: FmaThroughput512(iterations, Vector512.Create(1f)); break;
            case 256: FmaThroughput256(iterations, Vector256.Create(1f)); break;
            default: FmaThroughput128(iterations, Vector128.Create(1f)); break;
        }
    }

    /// <summary>32 dependent one-cycle instructions per iteration (16 x add, xor on the same register).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static ulong DependentChain(long iterations, ulong a, ulong b)
    {
        ulong x = a;
        for (long i = 0; i < iterations; i++)
        {
            x = (x + a) ^ b; x = (x + a) ^ b; x = (x + a) ^ b; x = (x + a) ^ b;
            x = (x + a) ^ b; x = (x + a) ^ b; x = (x + a) ^ b; x = (x + a) ^ b;
            x = (x + a) ^ b; x = (x + a) ^ b; x = (x + a) ^ b; x = (x + a) ^ b;
            x = (x + a) ^ b; x = (x + a) ^ b; x = (x + a) ^ b; x = (x + a) ^ b;
        }
        return x;
    }

    // 12 independent accumulators: more than pipes x latency (2 x 4 = 8), so the FMA pipes are the limit.
    // x = 1 keeps every accumulator finite (no denormal or overflow slow paths).

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> FmaThroughput512(long iterations, Vector512<float> x)
    {
        Vector512<float> c0 = x, c1 = x, c2 = x, c3 = x, c4 = x, c5 = x, c6 = x, c7 = x, c8 = x, c9 = x, c10 = x, c11 = x;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, x, x); c1 = Vector512.FusedMultiplyAdd(c1, x, x);
            c2 = Vector512.FusedMultiplyAdd(c2, x, x); c3 = Vector512.FusedMultiplyAdd(c3, x, x);
            c4 = Vector512.FusedMultiplyAdd(c4, x, x); c5 = Vector512.FusedMultiplyAdd(c5, x, x);
            c6 = Vector512.FusedMultiplyAdd(c6, x, x); c7 = Vector512.FusedMultiplyAdd(c7, x, x);
            c8 = Vector512.FusedMultiplyAdd(c8, x, x); c9 = Vector512.FusedMultiplyAdd(c9, x, x);
            c10 = Vector512.FusedMultiplyAdd(c10, x, x); c11 = Vector512.FusedMultiplyAdd(c11, x, x);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> FmaThroughput256(long iterations, Vector256<float> x)
    {
        Vector256<float> c0 = x, c1 = x, c2 = x, c3 = x, c4 = x, c5 = x, c6 = x, c7 = x, c8 = x, c9 = x, c10 = x, c11 = x;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, x, x); c1 = Vector256.FusedMultiplyAdd(c1, x, x);
            c2 = Vector256.FusedMultiplyAdd(c2, x, x); c3 = Vector256.FusedMultiplyAdd(c3, x, x);
            c4 = Vector256.FusedMultiplyAdd(c4, x, x); c5 = Vector256.FusedMultiplyAdd(c5, x, x);
            c6 = Vector256.FusedMultiplyAdd(c6, x, x); c7 = Vector256.FusedMultiplyAdd(c7, x, x);
            c8 = Vector256.FusedMultiplyAdd(c8, x, x); c9 = Vector256.FusedMultiplyAdd(c9, x, x);
            c10 = Vector256.FusedMultiplyAdd(c10, x, x); c11 = Vector256.FusedMultiplyAdd(c11, x, x);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector128<float> FmaThroughput128(long iterations, Vector128<float> x)
    {
        Vector128<float> c0 = x, c1 = x, c2 = x, c3 = x, c4 = x, c5 = x, c6 = x, c7 = x, c8 = x, c9 = x, c10 = x, c11 = x;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector128.FusedMultiplyAdd(c0, x, x); c1 = Vector128.FusedMultiplyAdd(c1, x, x);
            c2 = Vector128.FusedMultiplyAdd(c2, x, x); c3 = Vector128.FusedMultiplyAdd(c3, x, x);
            c4 = Vector128.FusedMultiplyAdd(c4, x, x); c5 = Vector128.FusedMultiplyAdd(c5, x, x);
            c6 = Vector128.FusedMultiplyAdd(c6, x, x); c7 = Vector128.FusedMultiplyAdd(c7, x, x);
            c8 = Vector128.FusedMultiplyAdd(c8, x, x); c9 = Vector128.FusedMultiplyAdd(c9, x, x);
            c10 = Vector128.FusedMultiplyAdd(c10, x, x); c11 = Vector128.FusedMultiplyAdd(c11, x, x);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }
}
