using CrossModal.Search.Exact;
using CrossModal.Search.Tests.Support;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.Tests;

[Trait("Category", "Kernel")]
[Collection(CrossModal.Tests.ThreadCountCollection.Name)]
public class ExactIndexTests
{
    private static ExactIndex Index(float[] gallery, int d)
    {
        var index = new ExactIndex(d);
        index.Add(gallery, TestContext.Current.CancellationToken);
        return index;
    }

    [Fact]
    public void Should_RankByScore_AndBreakTiesByLowerId_OnAHandCheckedGallery()
    {
        // Products of these vectors are exact in float32 whatever the summation order.
        float[] gallery =
        {
            1, 0, 0, 0,          // 0
            0, 1, 0, 0,          // 1
            1, 0, 0, 0,          // 2: same as 0
            0.5f, 0.5f, 0.5f, 0.5f, // 3
            0, 0, 0, 1,          // 4
            -1, 0, 0, 0,         // 5
        };
        float[] queries =
        {
            1, 0, 0, 0,          // scores 1, 0, 1, 0.5, 0, -1
            0.5f, 0.5f, 0.5f, 0.5f, // scores 0.5, 0.5, 0.5, 1, 0.5, -0.5
        };
        using var index = Index(gallery, 4);
        var r = index.Search(queries, 6, TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 0, 2, 3, 1, 4, 5 }, r.IdsOf(0).ToArray());
        Assert.Equal(new[] { 1f, 1f, 0.5f, 0f, 0f, -1f }, r.ScoresOf(0).ToArray());
        Assert.Equal(new[] { 3, 0, 1, 2, 4, 5 }, r.IdsOf(1).ToArray());
        Assert.Equal(new[] { 1f, 0.5f, 0.5f, 0.5f, 0.5f, -0.5f }, r.ScoresOf(1).ToArray());
        // Top 3 of the second query: the three lowest of the four tied ids follow the winner.
        Assert.Equal(new[] { 3, 0, 1 }, index.Search(queries, 3, TestContext.Current.CancellationToken).IdsOf(1).ToArray());
    }

    [Fact]
    public void Should_PadWithMinusOne_WhenKExceedsCount()
    {
        using var index = Index(new float[] { 0, 1, 1, 0 }, 2);
        var r = index.Search(new float[] { 1, 0 }, 4, TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 1, 0, -1, -1 }, r.IdsOf(0).ToArray());
        Assert.Equal(new[] { 1f, 0f, float.NegativeInfinity, float.NegativeInfinity }, r.ScoresOf(0).ToArray());
    }

    [Fact]
    public void Should_ReturnOnlyPadding_FromAnEmptyIndex()
    {
        using var index = new ExactIndex(3);
        var r = index.Search(new float[] { 1, 0, 0, 0, 1, 0 }, 2, TestContext.Current.CancellationToken);
        Assert.Equal(new[] { -1, -1, -1, -1 }, r.Ids.ToArray());
        Assert.All(r.Scores.ToArray(), s => Assert.Equal(float.NegativeInfinity, s));
    }

    [Fact]
    public void Should_RejectBadArguments_WithOneClearMessage()
    {
        using var index = Index(new float[] { 1, 0, 0, 1 }, 2);
        var k0 = Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(new float[] { 1, 0 }, 0, TestContext.Current.CancellationToken));
        Assert.Contains("k must be at least 1", k0.Message);
        var dim = Assert.Throws<ArgumentException>(() => index.Search(new float[] { 1, 0, 0 }, 1, TestContext.Current.CancellationToken));
        Assert.Contains("3 floats", dim.Message);
        Assert.Contains("2-dimensional", dim.Message);
        var nan = Assert.Throws<ArgumentException>(() => index.Search(new float[] { 1, 0, float.NaN, 0 }, 1, TestContext.Current.CancellationToken));
        Assert.Contains("Query 1", nan.Message);
        var small = Assert.Throws<ArgumentException>(() => index.Search(new float[] { 1, 0 }, 2, new int[1], new float[2], TestContext.Current.CancellationToken));
        Assert.Contains("ids holds 1", small.Message);
        var addDim = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 1, 0, 0 }, TestContext.Current.CancellationToken));
        Assert.Contains("2-dimensional", addDim.Message);
        var notUnit = Assert.Throws<ArgumentException>(() => index.Add(new float[] { 1, 0, 3, 4 }, TestContext.Current.CancellationToken));
        Assert.Contains("Vector 1 (id 3) has L2 norm 5", notUnit.Message);
        var inf = Assert.Throws<ArgumentException>(() => index.Add(new float[] { float.PositiveInfinity, 0 }, TestContext.Current.CancellationToken));
        Assert.Contains("non-finite", inf.Message);
        Assert.Equal(2, index.Count); // nothing of a rejected batch was added
    }

    public static TheoryData<int, int, int, int> Shapes => new()
    {
        // items, dimension, queries, k: both paths (scan up to 4 queries, GEMM beyond), odd dimensions (vector
        // tails), several scan and GEMM blocks, and k larger than a block.
        { 1, 16, 1, 1 }, { 7, 5, 3, 3 }, { 300, 33, 1, 10 }, { 1000, 64, 4, 10 }, { 1000, 64, 5, 10 },
        { 5000, 17, 2, 7 }, { 9000, 64, 37, 10 }, { 2000, 128, 300, 5 }, { 600, 24, 9, 700 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Should_MatchBruteForce(int n, int d, int nq, int k)
    {
        var gallery = Vectors.RandomUnit(n, d, (ulong)(n * 31 + d));
        var queries = Vectors.RandomUnit(nq, d, (ulong)(nq * 7 + d + 1));
        using var index = Index(gallery, d);
        var r = index.Search(queries, k, TestContext.Current.CancellationToken);
        for (int j = 0; j < nq; j++)
        {
            var s = Vectors.Scores(gallery, queries, d, j);
            var ids = r.IdsOf(j);
            var scores = r.ScoresOf(j);
            int kept = Math.Min(k, n);
            // Each returned score is the item's inner product (float32 rounding: |error| <= d x 2^-24 for unit vectors).
            double tol = 4e-7 * d;
            for (int i = 0; i < kept; i++) Assert.True(Math.Abs(scores[i] - s[ids[i]]) <= tol, $"q{j} #{i}: id {ids[i]} score {scores[i]} vs {s[ids[i]]}");
            for (int i = 1; i < kept; i++) Assert.True(scores[i - 1] > scores[i] || (scores[i - 1] == scores[i] && ids[i - 1] < ids[i]), $"q{j}: not ordered at {i}");
            Assert.Equal(kept, ids[..kept].ToArray().Distinct().Count());
            for (int i = kept; i < k; i++) Assert.Equal(-1, ids[i]);
            // Nothing missing: every item clearly above the last returned score is returned.
            var returned = ids[..kept].ToArray().ToHashSet();
            double last = scores[kept - 1];
            for (int i = 0; i < n; i++)
                if (s[i] > last + 2 * tol) Assert.True(returned.Contains(i), $"q{j}: item {i} ({s[i]}) is above the last result ({last}) but missing");
        }
    }

    [Fact]
    public void Should_GiveIdenticalResults_ForAnyThreadCount_OnBothPaths()
    {
        // Blocks do not depend on the thread count, so neither do scores and ties.
        int n = 20000, d = 32;
        var gallery = Vectors.RandomUnit(n, d, 5);
        var queries = Vectors.RandomUnit(40, d, 6);
        int keep = Parallelism.Threads;
        try
        {
            foreach (int nq in new[] { 1, 3, 40 })
            {
                var q = queries.AsSpan(0, nq * d).ToArray();
                SearchResult? first = null;
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    Parallelism.Threads = threads;
                    using var index = Index(gallery, d);
                    index.GemmBlockRows = 1000;
                    var r = index.Search(q, 10, TestContext.Current.CancellationToken);
                    if (first is null) first = r;
                    else
                    {
                        Assert.Equal(first.Ids.ToArray(), r.Ids.ToArray());
                        Assert.Equal(first.Scores.ToArray(), r.Scores.ToArray());
                    }
                }
            }
        }
        finally { Parallelism.Threads = keep; }
    }

    [Fact]
    public void Should_KeepLowestIds_AmongManyExactTies_AcrossThreadsAndPaths()
    {
        // 12,000 items, each one of three vectors with entries +-1/8 (64 x 1/64 = 1: unit, and every product is
        // exact in float32), so thousands of items tie exactly; the top 10 must be the 10 lowest ids of the best
        // vector, in increasing order, whichever path and thread split finds them.
        int n = 12000, d = 64;
        var patterns = new float[3][];
        var rng = new CrossModal.Tensors.Rng(3);
        for (int p = 0; p < 3; p++) patterns[p] = Enumerable.Range(0, d).Select(_ => rng.NextFloat() < 0.5f ? -0.125f : 0.125f).ToArray();
        var gallery = new float[n * d];
        var which = new int[n];
        for (int i = 0; i < n; i++)
        {
            which[i] = (i * 7 + i / 5) % 3;
            patterns[which[i]].CopyTo(gallery, i * d);
        }
        var expected = Enumerable.Range(0, n).Where(i => which[i] == 1).Take(10).ToArray();
        int keep = Parallelism.Threads;
        try
        {
            foreach (int threads in new[] { 1, 2 })
                foreach (int nq in new[] { 1, 6 })
                {
                    Parallelism.Threads = threads;
                    using var index = Index(gallery, d);
                    index.GemmBlockRows = 512;
                    var queries = Enumerable.Range(0, nq).SelectMany(_ => patterns[1]).ToArray();
                    var r = index.Search(queries, 10, TestContext.Current.CancellationToken);
                    for (int j = 0; j < nq; j++)
                    {
                        Assert.Equal(expected, r.IdsOf(j).ToArray());
                        Assert.All(r.ScoresOf(j).ToArray(), s => Assert.Equal(1f, s));
                    }
                }
        }
        finally { Parallelism.Threads = keep; }
    }

    [Fact]
    public void Should_AgreeBetweenScanAndGemm()
    {
        int n = 3000, d = 48;
        var gallery = Vectors.RandomUnit(n, d, 8);
        var queries = Vectors.RandomUnit(6, d, 9);
        using var index = Index(gallery, d);
        index.ScanMaxQueries = 8;
        var scan = index.Search(queries, 20, TestContext.Current.CancellationToken);
        index.ScanMaxQueries = 0;
        var gemm = index.Search(queries, 20, TestContext.Current.CancellationToken);
        for (int i = 0; i < scan.Scores.Length; i++) Assert.True(Math.Abs(scan.Scores[i] - gemm.Scores[i]) <= 1e-5f);
        Assert.Equal(scan.Ids.ToArray(), gemm.Ids.ToArray());
    }

    [Fact]
    public void Should_SearchAppendedItems_AcrossStorageChunks()
    {
        // Chunks start at 256 KB and double: at dimension 256 they hold 256, 512, 1024, 2048, ... rows, so rows
        // 255/256, 767/768 and 1791/1792 sit on either side of a boundary. Batches of uneven size straddle them.
        int d = 256, n = 5000;
        var gallery = Vectors.RandomUnit(n, d, 10);
        using var index = new ExactIndex(d);
        foreach (var (start, count) in new[] { (0, 1), (1, 700), (701, 1), (702, 2500), (3202, 1798) })
            index.Add(gallery.AsSpan(start * d, count * d), TestContext.Current.CancellationToken);
        Assert.Equal(n, index.Count);
        int[] probes = { 0, 255, 256, 767, 768, 1791, 1792, 3839, 3840, 4999 };
        var queries = probes.SelectMany(id => gallery.AsSpan(id * d, d).ToArray()).ToArray();
        foreach (int scanMax in new[] { 0, ExactIndex.MaxScanQueries })
        {
            index.ScanMaxQueries = scanMax;
            index.GemmBlockRows = 300;
            var r = index.Search(queries.AsSpan(0, 4 * d), 1, TestContext.Current.CancellationToken); // 4 queries: scan or GEMM
            Assert.Equal(probes[..4], r.Ids.ToArray());
            r = index.Search(queries, 1, TestContext.Current.CancellationToken);
            Assert.Equal(probes, r.Ids.ToArray());
        }
    }

    [Fact]
    public void Should_MapAnNpyFile_ReadOnly()
    {
        int n = 500, d = 24;
        var gallery = Vectors.RandomUnit(n, d, 11);
        var queries = Vectors.RandomUnit(3, d, 12);
        string path = Path.Combine(Path.GetTempPath(), $"crossmodal-search-{Guid.NewGuid():N}.npy");
        try
        {
            CrossModal.Tensors.IO.Npy.Write(path, gallery, new[] { n, d });
            using var memory = Index(gallery, d);
            using (var mapped = ExactIndex.MapNpy(path))
            {
                Assert.True(mapped.IsReadOnly);
                Assert.Equal(0, mapped.MemoryBytes);
                Assert.Equal(memory.Search(queries, 10, TestContext.Current.CancellationToken).Ids.ToArray(), mapped.Search(queries, 10, TestContext.Current.CancellationToken).Ids.ToArray());
                var e = Assert.Throws<InvalidOperationException>(() => mapped.Add(gallery.AsSpan(0, d), TestContext.Current.CancellationToken));
                Assert.Contains("memory-mapped", e.Message);
            }
            gallery[7 * d] += 0.5f; // row 7 no longer has unit norm
            CrossModal.Tensors.IO.Npy.Write(path, gallery, new[] { n, d });
            var bad = Assert.Throws<InvalidDataException>(() => ExactIndex.MapNpy(path));
            Assert.Contains(path, bad.Message);
            Assert.Contains("Vector 7", bad.Message);
        }
        finally { File.Delete(path); }
    }
}
