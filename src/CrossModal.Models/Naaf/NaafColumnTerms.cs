using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CrossModal.Models.Attention;
using CrossModal.Tensors;

namespace CrossModal.Models.Naaf;

/// <summary>
/// The forward-only per-word terms of one image against the words of a block of captions, fused for speed (the test
/// scorer and the training forward; the backward recomputes with <see cref="NaafBlock"/>, which keeps the
/// intermediates it needs): for every
/// column q of S (rows: the image's regions; columns: the words, one segment per caption) with threshold θ_q,
/// <list type="bullet">
/// <item>rel_q = Σ_r α[r, q] s[r, q], α = softmax over regions of λ · clipped_l2norm(s) (LeakyReLU 0.1, then
/// each region's row divided by its L2 norm over the caption's words + 1e-8; the softmax max-shifted as nn.Softmax);</item>
/// <item>m⁰_q = max_r s[r, q];</item>
/// <item>f_q = Σ_r p s / max(‖Σ_r p v_r‖, 1e-8) with p = e / (Σ_r e + 1e-8), e = exp(λ (s − θ_q)) where s &gt; θ_q,
/// else 0; ‖Σ_r p v_r‖² = pᵀ G p with G the regions' Gram matrix.</item>
/// </list>
/// Measured before: the unfused stages made about 20 passes over the image's whole R x W slab of S with a workspace
/// larger than L2, plus two small calls per region and caption (the segment norms). Here S is walked in tiles of
/// whole captions, about <see cref="TileTarget"/> columns wide, copied once into an L1-sized buffer and read three
/// times from there; nothing is allocated per call (pooled buffers, one instance per thread). Vector&lt;float&gt;
/// keeps one code path for every vector width (8 lanes with AVX2 or AVX-512, 4 without AVX2); exponentials by
/// <see cref="VectorExp"/>.
/// </summary>
internal sealed class NaafColumnTerms : IDisposable
{
    /// <summary>Tile width aim: 36 regions x 128 columns x 4 bytes = 18 KB per tile buffer (two of them).</summary>
    private const int TileTarget = 128;

    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>0, 1, ..., Lanes - 1: masks the part of a vector past a caption's last column.</summary>
    private static readonly Vector<float> LaneIndex = new(Enumerable.Range(0, Vector<float>.Count).Select(i => (float)i).ToArray());

    private readonly int _maxRows, _stride;
    private readonly int[] _tileStart; // first segment of each tile; the last entry is the segment count
    private readonly int[] _segStart;
    private readonly float[] _s, _e, _inv, _leakySq, _theta, _aMax, _rMax, _colSum, _relNum, _num, _sq, _gram2;

    /// <summary>A workspace for images of up to <paramref name="maxRows"/> regions against the caption segments <paramref name="segStart"/>.</summary>
    public NaafColumnTerms(int maxRows, ReadOnlySpan<int> segStart)
    {
        _maxRows = maxRows;
        _segStart = segStart.ToArray();
        int partners = segStart.Length - 1;
        var tiles = new List<int> { 0 };
        int widest = 1;
        for (int p = 1; p < partners; p++)
        {
            // Close the tile before segment p when p would take it past the target (a tile holds at least one caption).
            if (segStart[p + 1] - segStart[tiles[^1]] > TileTarget)
            {
                widest = Math.Max(widest, segStart[p] - segStart[tiles[^1]]);
                tiles.Add(p);
            }
        }
        if (partners > 0) widest = Math.Max(widest, segStart[partners] - segStart[tiles[^1]]);
        tiles.Add(partners);
        _tileStart = tiles.ToArray();
        _stride = (widest + Lanes - 1) / Lanes * Lanes;
        _s = TensorPool.Rent(maxRows * _stride);
        _e = TensorPool.Rent(maxRows * _stride);
        _gram2 = TensorPool.Rent(Math.Max(1, maxRows * maxRows));
        _inv = TensorPool.Rent(_stride + Lanes); // room for the last caption's spill-over store
        _leakySq = TensorPool.Rent(_stride + Lanes); // and for its masked load
        _theta = TensorPool.Rent(_stride);
        _aMax = TensorPool.Rent(_stride);
        _rMax = TensorPool.Rent(_stride);
        _colSum = TensorPool.Rent(_stride);
        _relNum = TensorPool.Rent(_stride);
        _num = TensorPool.Rent(_stride);
        _sq = TensorPool.Rent(_stride);
    }

    /// <summary>
    /// rel, m⁰ and f of every column of <paramref name="s"/> (<paramref name="rows"/> x W, row stride
    /// <paramref name="ld"/>, W = the segments' total) with thresholds <paramref name="theta"/> (one per column) and
    /// the image's <paramref name="rows"/> x <paramref name="rows"/> Gram matrix.
    /// </summary>
    public void Compute(ReadOnlySpan<float> s, int rows, int ld, ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> theta,
        Span<float> rel, Span<float> rawMax, Span<float> f)
    {
        Begin(s, rows, ld, gram, theta, rel, rawMax, f);
        for (int t = 0; t + 1 < _tileStart.Length; t++)
            Tile(s, rows, ld, _tileStart[t], _tileStart[t + 1], lambda, theta, rel, rawMax, f);
    }

    /// <summary>
    /// The same for the columns of caption <paramref name="segment"/> only (the training forward's caption-by-caption
    /// threshold walk: each caption is scored with the threshold the previous ones left).
    /// </summary>
    public void ComputeSegment(int segment, ReadOnlySpan<float> s, int rows, int ld, ReadOnlySpan<float> gram, float lambda, ReadOnlySpan<float> theta,
        Span<float> rel, Span<float> rawMax, Span<float> f)
    {
        if ((uint)segment >= (uint)(_segStart.Length - 1)) throw new ArgumentOutOfRangeException(nameof(segment));
        Begin(s, rows, ld, gram, theta, rel, rawMax, f);
        Tile(s, rows, ld, segment, segment + 1, lambda, theta, rel, rawMax, f);
    }

    private void Begin(ReadOnlySpan<float> s, int rows, int ld, ReadOnlySpan<float> gram, ReadOnlySpan<float> theta,
        ReadOnlySpan<float> rel, ReadOnlySpan<float> rawMax, ReadOnlySpan<float> f)
    {
        if (rows < 1 || rows > _maxRows) throw new ArgumentException($"{rows} regions: the workspace takes 1..{_maxRows}.");
        int w = _segStart[^1];
        if (s.Length < (rows - 1) * ld + w || theta.Length < w || rel.Length < w || rawMax.Length < w || f.Length < w || gram.Length < rows * rows)
            throw new ArgumentException("A span is shorter than the block's words need.");
        // pᵀ G p over the upper triangle: the diagonal once, every off-diagonal pair twice (G is symmetric).
        for (int r = 0; r < rows; r++)
            for (int c = r; c < rows; c++)
                _gram2[r * rows + c] = c == r ? gram[r * rows + c] : 2f * gram[r * rows + c];
    }

    /// <summary>The captions [p0, p1) as one tile.</summary>
    private void Tile(ReadOnlySpan<float> s, int rows, int ld, int p0, int p1, float lambda, ReadOnlySpan<float> theta,
        Span<float> rel, Span<float> rawMax, Span<float> f)
    {
        int c0 = _segStart[p0], width = _segStart[p1] - c0;
        int padded = (width + Lanes - 1) / Lanes * Lanes;
        LoadTile(s, rows, ld, c0, width, padded, p0, p1);
        theta.Slice(c0, width).CopyTo(_theta);
        _theta.AsSpan(width, padded - width).Clear();
        Exponentials(rows, padded, lambda);
        for (int q = 0; q < width; q++)
        {
            rel[c0 + q] = _relNum[q] / _colSum[q];
            rawMax[c0 + q] = _rMax[q];
            float norm = MathF.Sqrt(MathF.Max(_sq[q], 0f));
            f[c0 + q] = _num[q] / MathF.Max(norm, AttentionStages.Eps);
        }
    }

    /// <summary>
    /// Copies the tile's rows into <c>_s</c> (zero padding: a zero column has no weight anywhere) and writes the
    /// clipped-L2-normalised rows into <c>_e</c>, with the column maxima of s and of the normalised values.
    /// </summary>
    private void LoadTile(ReadOnlySpan<float> s, int rows, int ld, int c0, int width, int padded, int p0, int p1)
    {
        var leak = new Vector<float>(AttentionStages.LeakySlope);
        ref float inv = ref MemoryMarshal.GetArrayDataReference(_inv);
        ref float sq = ref MemoryMarshal.GetArrayDataReference(_leakySq);
        ref float aMax = ref MemoryMarshal.GetArrayDataReference(_aMax);
        ref float rMax = ref MemoryMarshal.GetArrayDataReference(_rMax);
        for (int r = 0; r < rows; r++)
        {
            var row = _s.AsSpan(r * _stride, padded);
            s.Slice(r * ld + c0, width).CopyTo(row);
            row[width..].Clear();
            ref float src = ref MemoryMarshal.GetArrayDataReference(_s);
            src = ref Unsafe.Add(ref src, r * _stride);
            ref float dst = ref MemoryMarshal.GetArrayDataReference(_e);
            dst = ref Unsafe.Add(ref dst, r * _stride);
            // LeakyReLU into _e and its squares into _leakySq; the maximum of s over the regions.
            for (int j = 0; j < padded; j += Lanes)
            {
                var x = Vector.LoadUnsafe(ref src, (nuint)j);
                var l = Vector.Max(x, x * leak);
                l.StoreUnsafe(ref dst, (nuint)j);
                (l * l).StoreUnsafe(ref sq, (nuint)j);
                (r == 0 ? x : Vector.Max(x, Vector.LoadUnsafe(ref rMax, (nuint)j))).StoreUnsafe(ref rMax, (nuint)j);
            }
            // Each caption's 1 / (‖LeakyReLU(s)‖ + 1e-8) for this region over the caption's columns: whole vectors
            // plus a masked last one; the last store runs into the next caption's columns, which its own store then
            // overwrites (and past the tile into spare room).
            for (int p = p0; p < p1; p++)
            {
                int lo = _segStart[p] - c0, hi = _segStart[p + 1] - c0, j = lo;
                Vector<float> acc = default;
                for (; j + Lanes <= hi; j += Lanes) acc += Vector.LoadUnsafe(ref sq, (nuint)j);
                if (j < hi)
                    acc += Vector.ConditionalSelect(Vector.LessThan(LaneIndex, new Vector<float>(hi - j)), Vector.LoadUnsafe(ref sq, (nuint)j), Vector<float>.Zero);
                var v = new Vector<float>(1f / (MathF.Sqrt(Vector.Sum(acc)) + AttentionStages.Eps));
                for (j = lo; j < hi; j += Lanes) v.StoreUnsafe(ref inv, (nuint)j);
            }
            for (int j = 0; j < padded; j += Lanes)
            {
                var a = Vector.LoadUnsafe(ref dst, (nuint)j) * Vector.LoadUnsafe(ref inv, (nuint)j);
                a.StoreUnsafe(ref dst, (nuint)j);
                (r == 0 ? a : Vector.Max(a, Vector.LoadUnsafe(ref aMax, (nuint)j))).StoreUnsafe(ref aMax, (nuint)j);
            }
        }
    }

    /// <summary>
    /// Per vector of columns: the relevance sums (Σ exp(λ(a − max a)) and the same weighted by s), the positive
    /// branch's e (over <c>_e</c>, replacing the normalised values), p = e / (Σ e + 1e-8) in place, Σ p s into
    /// <c>_num</c> and pᵀ G p into <c>_sq</c>. Regions whose e is 0 in every column of the vector (s ≤ θ: most of
    /// them at a learned threshold) skip the exponential and drop out of pᵀ G p, which then costs k(k+1)/2
    /// multiply-adds for k regions above the threshold instead of R(R+1)/2.
    /// </summary>
    private void Exponentials(int rows, int padded, float lambda)
    {
        var lam = new Vector<float>(lambda);
        var eps = new Vector<float>(AttentionStages.Eps);
        ref float sBase = ref MemoryMarshal.GetArrayDataReference(_s);
        ref float eBase = ref MemoryMarshal.GetArrayDataReference(_e);
        ref float g = ref MemoryMarshal.GetArrayDataReference(_gram2);
        ref float theta = ref MemoryMarshal.GetArrayDataReference(_theta);
        ref float aMax = ref MemoryMarshal.GetArrayDataReference(_aMax);
        ref float colSum = ref MemoryMarshal.GetArrayDataReference(_colSum);
        ref float relNum = ref MemoryMarshal.GetArrayDataReference(_relNum);
        ref float num = ref MemoryMarshal.GetArrayDataReference(_num);
        ref float sq = ref MemoryMarshal.GetArrayDataReference(_sq);
        Span<int> above = rows <= 256 ? stackalloc int[rows] : new int[rows];
        for (int j = 0; j < padded; j += Lanes)
        {
            var th = Vector.LoadUnsafe(ref theta, (nuint)j);
            var am = Vector.LoadUnsafe(ref aMax, (nuint)j);
            Vector<float> cs = default, rn = default, zs = default, ns = default;
            int k = 0;
            for (int r = 0; r < rows; r++)
            {
                nuint at = (nuint)(r * _stride + j);
                var x = Vector.LoadUnsafe(ref sBase, at);
                var ea = VectorExp.Exp(lam * (Vector.LoadUnsafe(ref eBase, at) - am));
                cs += ea;
                rn = Vector.FusedMultiplyAdd(ea, x, rn);
                var d = x - th;
                if (!Vector.GreaterThanAny(d, Vector<float>.Zero)) continue;
                // exactly 0 where s <= θ: the original's -1e9 before exp
                var e = Vector.ConditionalSelect(Vector.GreaterThan(d, Vector<float>.Zero), VectorExp.Exp(lam * d), Vector<float>.Zero);
                e.StoreUnsafe(ref eBase, at);
                zs += e;
                ns = Vector.FusedMultiplyAdd(e, x, ns);
                above[k++] = r;
            }
            cs.StoreUnsafe(ref colSum, (nuint)j);
            rn.StoreUnsafe(ref relNum, (nuint)j);
            // p = e / (Σ e + ε) (the original's l1norm): Σ p s = (Σ e s) / (Σ e + ε).
            var inv = Vector<float>.One / (zs + eps);
            (ns * inv).StoreUnsafe(ref num, (nuint)j);
            for (int i = 0; i < k; i++)
            {
                nuint at = (nuint)(above[i] * _stride + j);
                (Vector.LoadUnsafe(ref eBase, at) * inv).StoreUnsafe(ref eBase, at);
            }
            // pᵀ G p over the upper triangle of the regions above the threshold (diagonal once, pairs twice).
            Vector<float> total = default;
            for (int i = 0; i < k; i++)
            {
                int a = above[i];
                var pa = Vector.LoadUnsafe(ref eBase, (nuint)(a * _stride + j));
                var t = new Vector<float>(Unsafe.Add(ref g, a * rows + a)) * pa;
                for (int i2 = i + 1; i2 < k; i2++)
                {
                    int b = above[i2];
                    t = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref g, a * rows + b)), Vector.LoadUnsafe(ref eBase, (nuint)(b * _stride + j)), t);
                }
                total = Vector.FusedMultiplyAdd(pa, t, total);
            }
            total.StoreUnsafe(ref sq, (nuint)j);
        }
    }

    public void Dispose()
    {
        foreach (var b in new[] { _s, _e, _gram2, _inv, _leakySq, _theta, _aMax, _rMax, _colSum, _relNum, _num, _sq })
            TensorPool.Return(b);
    }
}
