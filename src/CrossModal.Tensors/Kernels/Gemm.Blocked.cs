using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Kernels;

// The blocked GEMM (Goto/BLIS structure). For each thread's rectangle of C (sizes at 512 bits; 256 bits in brackets):
//   for ic over rows in steps of Mc
//     for pc over depth in balanced steps <= Kc
//       pack A block [mc x kc] (times alpha) into 12-row [6-row] panels
//       for jc over columns in steps of Nc
//         pack B block [kc x nc] into 32 [16]-column panels   (640 KB [320 KB]: stays in L2)
//         for ir over the A panels                             (one A panel, 15 KB [7.5 KB], stays in L1)
//           for jr over the B panels                           micro-kernel: C[12 x 32] [6 x 16] (+)= A panel * B panel
// Keeping the broadcast operand's panel in L1 and streaming the vector operand from L2 measured ~5% faster here
// than the classic order with the B panel in L1 (a 32-column B panel of Kc steps nearly fills the L1 by itself).
// It is also OpenBLAS's order on Haswell/Zen (its packed A is our B), with the same 16 x 6 register tile there.
// beta is applied by the micro-kernel in the first depth step (beta = 0 writes without reading C); later depth
// steps add. Each element of C is one FMA chain in k order whatever the thread split or edge handling, so results
// are bit-identical for any thread count. When a thread has at most Mr rows and B is not transposed, B is streamed
// from the matrix itself (each B value is used once; packing would only triple the memory traffic). A B operand
// packed ahead (PackedMatrix) skips the B packing. Very skinny shapes go to the dot-product path (Gemm.Dot.cs).
// Threads: C is cut into a grid of rectangles at tile boundaries, one per thread (see Partition); inside a parallel
// region everything runs on the calling thread.
public static unsafe partial class Gemm
{
    private enum Isa { Avx512, Avx2, Scalar }

    private const int Mr512 = 12, Nr512 = 32, Mr256 = 6, Nr256 = 16, MrScalar = 4, NrScalar = 4;

    /// <summary>
    /// Depth block: the A panel ([12 x Kc], 15 KB; [6 x Kc], 7.5 KB at 256 bits) stays in L1 (48 KB on Zen 5, 32 KB
    /// on Zen 3) while B panels (40 KB; 20 KB) stream past it. The same at every width: it fixes the order of the
    /// additions, and k = 300 (word vectors) is one block.
    /// </summary>
    private const int Kc = 320;

    /// <summary>Rows per packed A block ([Mc x Kc], 2 MB, read panel by panel from L3): bounds the buffer and how often B is repacked.</summary>
    private const int Mc = 1536;

    /// <summary>
    /// Columns per packed B block, which stays in L2 while the A panels pass: [Kc x 512] (640 KB) in Zen 5's 1 MB L2
    /// for the 512-bit kernels; [Kc x 256] (320 KB) for the 256-bit ones, whose machines include Zen 3 with a 512 KB
    /// L2 (640 KB would not fit there, and every A panel would fetch B from L3 again).
    /// </summary>
    private static readonly int Nc = Kind == Isa.Avx512 ? 512 : 256;

    /// <summary>Below this many multiply-adds a second thread costs more than it saves.</summary>
    private const long ParallelMinMacs = 1L << 20;

    private static readonly Isa Kind = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? Isa.Avx512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? Isa.Avx2 : Isa.Scalar;

    private static readonly int Mr = Kind switch { Isa.Avx512 => Mr512, Isa.Avx2 => Mr256, _ => MrScalar };
    private static readonly int Nr = Kind switch { Isa.Avx512 => Nr512, Isa.Avx2 => Nr256, _ => NrScalar };

    /// <summary>Which micro-kernel family this process uses ("avx512", "avx2" or "scalar"); for tests and benchmarks.</summary>
    internal static string KernelName => Kind switch { Isa.Avx512 => "avx512", Isa.Avx2 => "avx2", _ => "scalar" };

    /// <summary>Pointer entry point (no argument checks); used by kernels that already hold pinned storage.</summary>
    internal static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            ScaleRows(m, n, beta, c, ldc);
            return;
        }
        if (UsesDotPath(transA, transB, m, n, k))
        {
            MultiplyDot(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        Execute(new Job(transA, transB, k, alpha, (nint)a, lda, (nint)b, ldb, 0, beta, (nint)c, ldc), m, n);
    }

    /// <summary>Splits C across the threads (or not) and runs each part.</summary>
    private static void Execute(Job job, int m, int n)
    {
        var (tm, tn) = Partition(m, n, job.K, Parallelism.InsideRegion ? 1 : Parallelism.Threads, job.PackedB != 0);
        if (tm * tn == 1) Run(in job, 0, m, 0, n);
        else RunParallel(job, m, n, tm, tn);
    }

    /// <summary>Runs the tm x tn parts on as many threads (a separate method, so the serial path allocates no closure).</summary>
    private static void RunParallel(Job job, int m, int n, int tm, int tn)
    {
        Parallelism.ForEachTask(tm * tn, t =>
        {
            int rm = t / tn, rn = t % tn;
            var (m0, m1) = Split(m, Mr, tm, rm);
            var (n0, n1) = Split(n, Nr, tn, rn);
            if (m1 > m0 && n1 > n0) Run(in job, m0, m1, n0, n1);
        });
    }

    /// <summary>Everything a thread needs to compute its rectangle of C (pointers as nint so lambdas can carry them).</summary>
    /// <remarks>PackedB, when not 0, points at B already packed by <see cref="PackedMatrix"/> (row stride PaddedN).</remarks>
    private readonly record struct Job(bool TransA, bool TransB, int K, float Alpha, nint A, int Lda, nint B, int Ldb,
        nint PackedB, float Beta, nint C, int Ldc);

    /// <summary>
    /// Chooses a tm x tn grid of threads over C (tm * tn = threads, or 1 x 1 for small products). Each thread packs
    /// its own blocks, so splitting columns repeats the packing of A and splitting rows repeats the packing of B;
    /// the grid minimises the largest thread's arithmetic plus its packing. Depends only on the shape and the
    /// thread count.
    /// </summary>
    internal static (int Tm, int Tn) Partition(int m, int n, int k, int threads, bool prepackedB = false)
    {
        if (threads <= 1 || (long)m * n * k < ParallelMinMacs) return (1, 1);
        long tilesM = (m + Mr - 1) / Mr, tilesN = (n + Nr - 1) / Nr;
        (int, int) best = (1, 1);
        double bestCost = double.MaxValue;
        for (int tn = threads; tn >= 1; tn--)
        {
            if (threads % tn != 0) continue;
            int tm = threads / tn;
            if (tilesM < tm || tilesN < tn) continue;
            long rows = (tilesM + tm - 1) / tm * Mr, cols = (tilesN + tn - 1) / tn * Nr;
            double macs = (double)rows * cols * k;
            // A is packed once per row block, B once per row block of Mc rows.
            // A prepacked B costs no packing, but every row split streams all of it again.
            double packing = (double)rows * k + (double)k * cols * ((rows + Mc - 1) / Mc) * (prepackedB ? 0.5 : 1);
            double cost = macs + 16 * packing;
            if (cost < bestCost)
            {
                bestCost = cost;
                best = (tm, tn);
            }
        }
        return best;
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of [0, size), cut at multiples of <paramref name="unit"/>.</summary>
    private static (int Start, int End) Split(int size, int unit, int parts, int part)
    {
        long tiles = (size + unit - 1) / unit;
        int start = (int)Math.Min(size, tiles * part / parts * unit);
        int end = (int)Math.Min(size, tiles * (part + 1) / parts * unit);
        return (start, end);
    }

    /// <summary>Computes rows [m0, m1) x columns [n0, n1) of C on the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(in Job job, int m0, int m1, int n0, int n1)
    {
        int k = job.K, mr = Mr, nr = Nr;
        float* a = (float*)job.A, b = (float*)job.B, c = (float*)job.C;
        int kBlocks = (k + Kc - 1) / Kc;
        int rows = m1 - m0;
        bool prepacked = job.PackedB != 0;
        int paddedN = (job.Ldb + nr - 1) / nr * nr; // for a prepacked B, Ldb holds n
        bool streamB = !prepacked && !job.TransB && rows <= mr;
        int mcMax = Math.Min(Mc, (rows + mr - 1) / mr * mr);
        int ncMax = Math.Min(Nc, (n1 - n0 + nr - 1) / nr * nr);
        int kcMax = (k + kBlocks - 1) / kBlocks;
        var buffers = PackBuffers.ForThisThread((long)mcMax * kcMax, streamB || prepacked ? (long)nr * kcMax : (long)ncMax * kcMax);
        float* packedA = buffers.A, packedB = buffers.B;
        float* tile = stackalloc float[Mr512 * Nr512];

        for (int ic = m0; ic < m1; ic += Mc)
        {
            int mc = Math.Min(Mc, m1 - ic);
            for (int kb = 0; kb < kBlocks; kb++)
            {
                // Balanced depth blocks (k = 300 gives 150 + 150, not 256 + 44); they depend on k only.
                int pc = (int)((long)k * kb / kBlocks), kc = (int)((long)k * (kb + 1) / kBlocks) - pc;
                float beta = kb == 0 ? job.Beta : 1f;
                PackA(job.TransA, a, job.Lda, job.Alpha, ic, mc, pc, kc, packedA);
                for (int jc = n0; jc < n1; jc += Nc)
                {
                    int nc = Math.Min(Nc, n1 - jc);
                    float* cBlock = c + (long)ic * job.Ldc + jc;
                    if (streamB)
                    {
                        StreamedBlock(b, job.Ldb, pc, jc, nc, kc, packedA, packedB, cBlock, job.Ldc, mc, beta, tile);
                        continue;
                    }
                    float* bBlock = packedB;
                    if (prepacked) bBlock = (float*)job.PackedB + (long)pc * paddedN + (long)jc * kc;
                    else PackB(job.TransB, b, job.Ldb, pc, kc, jc, nc, packedB);
                    // The A panel (Mr x kc) stays in L1 while the B block (kc x nc, in L2) streams past it.
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        float* aPanel = packedA + (long)ir * kc;
                        int tileRows = Math.Min(mr, mc - ir);
                        for (int jr = 0; jr < nc; jr += nr)
                            Tile(aPanel, bBlock + (long)jr * kc, nr, kc, cBlock + (long)ir * job.Ldc + jr, job.Ldc,
                                tileRows, Math.Min(nr, nc - jr), beta, tile);
                    }
                }
            }
        }
    }

    /// <summary>At most Mr rows with B not transposed: B's own rows feed the kernel, only a partial last panel is packed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StreamedBlock(float* b, int ldb, int pc, int jc, int nc, int kc, float* packedA, float* panel,
        float* c, int ldc, int rows, float beta, float* tile)
    {
        int nr = Nr;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            if (cols == nr)
            {
                Tile(packedA, b + (long)pc * ldb + jc + jr, ldb, kc, c + jr, ldc, rows, cols, beta, tile);
            }
            else
            {
                // Reading Nr (32 or 16) columns past the matrix's last column could leave the array: pack this one.
                PackBPanel(false, b, ldb, pc, kc, jc + jr, cols, panel);
                Tile(packedA, panel, nr, kc, c + jr, ldc, rows, cols, beta, tile);
            }
        }
    }

    /// <summary>One tile of C: the micro-kernel straight into C, or through the scratch tile at the edges.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(float* aPanel, float* bPanel, nint bStride, int kc, float* cTile, int ldc, int rows, int cols,
        float beta, float* tile)
    {
        int kernelRows = KernelRows(rows);
        if (rows == kernelRows && cols == Nr)
        {
            MicroKernel(kernelRows, kc, aPanel, bPanel, bStride, cTile, ldc, beta);
        }
        else
        {
            MicroKernel(kernelRows, kc, aPanel, bPanel, bStride, tile, Nr, 0f);
            MergeTile(tile, Nr, cTile, ldc, rows, cols, beta);
        }
    }

    /// <summary>Rows the micro-kernel chosen for a tile of <paramref name="rows"/> rows computes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int KernelRows(int rows) => Kind switch
    {
        Isa.Avx512 => rows > 8 ? 12 : rows > 4 ? 8 : 4,
        Isa.Avx2 => rows > 4 ? 6 : rows > 2 ? 4 : 2,
        _ => Mr,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(int rows, nint kc, float* a, float* b, nint ldb, float* c, nint ldc, float beta)
    {
        switch (Kind)
        {
            case Isa.Avx512:
                if (rows == 12) Kernel12x32(kc, a, b, ldb, c, ldc, beta);
                else if (rows == 8) Kernel8x32(kc, a, b, ldb, c, ldc, beta);
                else Kernel4x32(kc, a, b, ldb, c, ldc, beta);
                break;
            case Isa.Avx2:
                if (rows == 6) Kernel6x16(kc, a, b, ldb, c, ldc, beta);
                else if (rows == 4) Kernel4x16(kc, a, b, ldb, c, ldc, beta);
                else Kernel2x16(kc, a, b, ldb, c, ldc, beta);
                break;
            default:
                Kernel4x4(kc, a, b, ldb, c, ldc, beta);
                break;
        }
    }

    /// <summary>Writes the valid rows x cols corner of an edge tile into C with the same arithmetic as the kernels.</summary>
    private static void MergeTile(float* tile, int ldt, float* c, int ldc, int rows, int cols, float beta)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + (long)i * ldt, d = c + (long)i * ldc;
            for (int j = 0; j < cols; j++) d[j] = UpdateScalar(d[j], t[j], beta);
        }
    }

    /// <summary>C = beta * C for the k = 0 / alpha = 0 cases (beta = 0 clears, so NaNs in C do not survive).</summary>
    private static void ScaleRows(int m, int n, float beta, float* c, int ldc)
    {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>
    /// Per-thread packing buffers, grown on demand and reused by every later call on the thread (no allocation on
    /// the hot path). Pinned arrays on the pinned object heap: the GC frees them with the thread, and the 64-byte
    /// alignment we need is obtained by offsetting into the array.
    /// </summary>
    private sealed class PackBuffers
    {
        [ThreadStatic] private static PackBuffers? _current;

        private float[] _a = [], _b = [];

        public float* A { get; private set; }

        public float* B { get; private set; }

        public static PackBuffers ForThisThread(long aFloats, long bFloats)
        {
            var p = _current ??= new PackBuffers();
            if (p._a.Length < aFloats + 16) p.A = Grow(ref p._a, aFloats);
            if (p._b.Length < bFloats + 16) p.B = Grow(ref p._b, bFloats);
            return p;
        }

        private static float* Grow(ref float[] array, long floats)
        {
            array = GC.AllocateUninitializedArray<float>((int)floats + 16, pinned: true);
            nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            return (float*)((address + 63) & ~(nint)63);
        }
    }
}
