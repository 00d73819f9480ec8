using CrossModal.Search.Exact;
using CrossModal.Search.Quantized;
using CrossModal.Search.Tests.Support;

namespace CrossModal.Search.Tests;

[Trait("Category", "Kernel")]
public class Int8IndexTests
{
    private static Int8Index Index(float[] gallery, int d)
    {
        var index = new Int8Index(d);
        index.Add(gallery, TestContext.Current.CancellationToken);
        return index;
    }

    [Fact]
    public void Should_EqualExactSearch_WhenEveryItemIsACandidate()
    {
        // k x factor >= count: the int8 pass only orders candidates, re-scoring is exact, so results (ids and
        // float32 scores) must be exact search's.
        int n = 700, d = 40;
        var gallery = Vectors.RandomUnit(n, d, 21);
        var queries = Vectors.RandomUnit(3, d, 22);
        using var int8 = Index(gallery, d);
        int8.RescoreFactor = n;
        using var exact = new ExactIndex(d);
        exact.Add(gallery, TestContext.Current.CancellationToken);
        var a = int8.Search(queries, 15, TestContext.Current.CancellationToken);
        var b = exact.Search(queries, 15, TestContext.Current.CancellationToken);
        Assert.Equal(b.Ids.ToArray(), a.Ids.ToArray());
        Assert.Equal(b.Scores.ToArray(), a.Scores.ToArray());
    }

    [Fact]
    public void Should_FindEveryItemTheErrorBoundGuarantees()
    {
        // For a query q and item x with quantisation scales s_q, s_x (max |value| / 127) the approximate score is
        // within e(q, x) = s_x/2 |q|_1 + s_q/2 |x|_1 + d s_x s_q / 4 of the true one. A true top-k item i can only
        // be missed if at least c = k x factor other items j reach t_j + e_j >= t_i - e_i. So every top-k item with
        // fewer than c such rivals must be returned. Checked on isotropic data, the worst case for quantisation.
        int n = 3000, d = 64, k = 10, factor = 2, nq = 20;
        var gallery = Vectors.RandomUnit(n, d, 23);
        var queries = Vectors.RandomUnit(nq, d, 24);
        using var index = Index(gallery, d);
        index.RescoreFactor = factor;
        var r = index.Search(queries, k, TestContext.Current.CancellationToken);
        int guaranteed = 0;
        for (int j = 0; j < nq; j++)
        {
            var s = Vectors.Scores(gallery, queries, d, j);
            var q = queries.AsSpan(j * d, d);
            var e = new double[n];
            for (int i = 0; i < n; i++) e[i] = Bound(q, gallery.AsSpan(i * d, d));
            var returned = r.IdsOf(j).ToArray().ToHashSet();
            foreach (int i in Vectors.TopK(gallery, queries, d, j, k))
            {
                int rivals = 0;
                for (int t = 0; t < n && rivals < k * factor; t++)
                    if (t != i && s[t] + e[t] >= s[i] - e[i]) rivals++;
                if (rivals >= k * factor) continue;
                guaranteed++;
                Assert.True(returned.Contains(i), $"query {j}: item {i} (score {s[i]:F5}, bound {e[i]:F5}, {rivals} rivals) is guaranteed but missing");
            }
        }
        // The check is not vacuous: most of the true top 10 are covered by the guarantee.
        Assert.True(guaranteed >= nq * k / 2, $"only {guaranteed} of {nq * k} top-{k} items are covered by the bound");
    }

    private static double Bound(ReadOnlySpan<float> q, ReadOnlySpan<float> x)
    {
        double sq = 0, sx = 0, q1 = 0, x1 = 0;
        for (int i = 0; i < q.Length; i++)
        {
            sq = Math.Max(sq, Math.Abs(q[i]));
            sx = Math.Max(sx, Math.Abs(x[i]));
            q1 += Math.Abs(q[i]);
            x1 += Math.Abs(x[i]);
        }
        sq /= 127;
        sx /= 127;
        // A relative 1e-6 for the float32 arithmetic of the scales and the re-scored products.
        return sx / 2 * q1 + sq / 2 * x1 + q.Length * sx * sq / 4 + 1e-6;
    }

    [Fact]
    public void Should_ReachRecall099_OnEmbeddingLikeData()
    {
        // Embedding-like data (intrinsic dimension 16 in 64, queries near gallery items): with 4 candidates per
        // result the int8 ranking error (about 1e-3 here) is far below the gaps around the 10th neighbour.
        int n = 10000, d = 64;
        var gallery = Vectors.Structured(n, d, 16, 0.3f, 25);
        var queries = Vectors.Near(gallery, d, 50, 0.5f, 26);
        using var index = Index(gallery, d);
        var r = index.Search(queries, 10, TestContext.Current.CancellationToken);
        double recall = Vectors.Recall(gallery, queries, d, r);
        Assert.True(recall >= 0.99, $"int8 recall@10 {recall:F4}");
    }

    [Fact]
    public void Should_ReturnExactScores_InTieRuleOrder()
    {
        int n = 2000, d = 32;
        var gallery = Vectors.RandomUnit(n, d, 27);
        var queries = Vectors.RandomUnit(9, d, 28);
        using var index = Index(gallery, d);
        var r = index.Search(queries, 12, TestContext.Current.CancellationToken);
        using var exact = new ExactIndex(d);
        exact.Add(gallery, TestContext.Current.CancellationToken);
        for (int j = 0; j < 9; j++)
        {
            var s = Vectors.Scores(gallery, queries, d, j);
            var ids = r.IdsOf(j);
            var scores = r.ScoresOf(j);
            for (int i = 0; i < 12; i++) Assert.True(Math.Abs(scores[i] - s[ids[i]]) <= 1e-5, $"q{j} #{i}");
            for (int i = 1; i < 12; i++) Assert.True(scores[i - 1] > scores[i] || (scores[i - 1] == scores[i] && ids[i - 1] < ids[i]));
        }
    }

    [Fact]
    public void Should_HandleEmpty_KAboveCount_AndPartialGroups()
    {
        using var empty = new Int8Index(5);
        Assert.Equal(new[] { -1, -1 }, empty.Search(new float[] { 1, 0, 0, 0, 0 }, 2, TestContext.Current.CancellationToken).Ids.ToArray());
        // 21 items: one full group of 16 and a partial one, added in three batches (appends fill the partial group).
        int d = 7;
        var gallery = Vectors.RandomUnit(21, d, 29);
        using var index = new Int8Index(d);
        index.Add(gallery.AsSpan(0, 3 * d), TestContext.Current.CancellationToken);
        index.Add(gallery.AsSpan(3 * d, 15 * d), TestContext.Current.CancellationToken);
        index.Add(gallery.AsSpan(18 * d, 3 * d), TestContext.Current.CancellationToken);
        var r = index.Search(gallery, 25, TestContext.Current.CancellationToken);
        for (int j = 0; j < 21; j++)
        {
            Assert.Equal(j, r.IdsOf(j)[0]); // each item finds itself first
            Assert.Equal(21, r.IdsOf(j).ToArray().Count(id => id >= 0));
            Assert.Equal(new[] { -1, -1, -1, -1 }, r.IdsOf(j)[21..].ToArray());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(gallery.AsSpan(0, d), 0, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Should_BuildOverAMappedGallery_AndCountOnlyTheCodes()
    {
        int n = 1000, d = 64;
        var gallery = Vectors.RandomUnit(n, d, 30);
        var queries = Vectors.RandomUnit(5, d, 31);
        string path = Path.Combine(Path.GetTempPath(), $"crossmodal-int8-{Guid.NewGuid():N}.npy");
        try
        {
            CrossModal.Tensors.IO.Npy.Write(path, gallery, new[] { n, d });
            using var index = Int8Index.Build(ExactIndex.MapNpy(path), TestContext.Current.CancellationToken);
            Assert.True(index.IsReadOnly);
            // 1,000 items: 63 groups of 16 x 64 codes, plus a scale and a code sum per item (and spare capacity).
            Assert.Equal(63L * 16 * 64 + 8 * 1000, index.ScannedBytes);
            Assert.True(index.MemoryBytes < 4L * n * d / 3, $"{index.MemoryBytes} bytes in memory");
            using var inMemory = Index(gallery, d);
            Assert.Equal(inMemory.Search(queries, 10, TestContext.Current.CancellationToken).Ids.ToArray(), index.Search(queries, 10, TestContext.Current.CancellationToken).Ids.ToArray());
            Assert.Throws<InvalidOperationException>(() => index.Add(gallery.AsSpan(0, d), TestContext.Current.CancellationToken));
        }
        finally { File.Delete(path); }
    }
}
