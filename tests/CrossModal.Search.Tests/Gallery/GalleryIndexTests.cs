using CrossModal.Search.Gallery;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.Tests.Gallery;

[Collection(CrossModal.Tests.ThreadCountCollection.Name)]
public class GalleryIndexTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] Queries = { "a red circle .", "the star is blue", "a green square", "yellow" };

    private static GalleryIndex Build(GalleryFixture f, VectorIndexKind kind = VectorIndexKind.Exact, bool captions = true)
    {
        var g = GalleryIndex.Create(f.Model, CheckpointIdentity.Of(f.CheckpointPath), kind, f.Regions, 8, captions);
        GalleryBuilder.AddPrecomp(g, f.Model, f.Test, "/images", cancellationToken: Ct);
        return g;
    }

    [Theory]
    [InlineData("vsepp", true)]
    [InlineData("scan", false)]
    public void Should_DetectWhetherIndexScoresAreFinal(string family, bool direct)
    {
        using var f = new GalleryFixture(family);
        using var g = Build(f);
        Assert.Equal(direct, g.Metadata.Direct);
        Assert.Equal(direct, g.Images.Sets is null);
    }

    [Theory]
    [InlineData("vsepp")]
    [InlineData("scan")]
    public void Should_RankTextQueries_AsTheModelsFullScoring(string family)
    {
        // Brute force: the model scores every test image against the query; the gallery (exact index, and for
        // SCAN re-scoring every candidate from float16 regions) must return the same top k with the same scores.
        using var f = new GalleryFixture(family);
        using var g = Build(f);
        g.Save(f.File("g.index"), cancellationToken: Ct);
        using var opened = GalleryIndex.Open(f.File("g.index"));
        var full = f.FullScores(Queries);
        int n = f.Test.ImageCount, k = 7;
        for (int q = 0; q < Queries.Length; q++)
        {
            var hits = opened.Search(f.Model, GalleryQuery.FromText(f.Model, Queries[q]), GalleryTarget.Images, k, rerank: n, cancellationToken: Ct);
            var truth = Enumerable.Range(0, n).Select(i => full[i * Queries.Length + q]).ToArray();
            var sorted = truth.OrderDescending().ToArray();
            Assert.Equal(k, hits.Count);
            double tolerance = family == "scan" ? 3e-3 : 1e-5; // float16 regions
            for (int r = 0; r < k; r++)
            {
                Assert.Equal(r + 1, hits[r].Rank);
                Assert.Equal(truth[hits[r].Index], hits[r].Score, tolerance);
                Assert.True(truth[hits[r].Index] >= sorted[k - 1] - 2 * tolerance, $"query {q}: hit {r} (image {hits[r].Index}, score {truth[hits[r].Index]}) is not in the true top {k} (k-th {sorted[k - 1]}).");
                if (r > 0) Assert.True(hits[r - 1].Score >= hits[r].Score);
            }
            if (family == "vsepp") Assert.Equal(Enumerable.Range(0, n).OrderByDescending(i => truth[i]).ThenBy(i => i).Take(k), hits.Select(h => h.Index));
        }
    }

    [Fact]
    public void Should_ReturnTheQueryImageFirst_WhenSearchingImagesByImage()
    {
        using var f = new GalleryFixture("scan");
        using var g = Build(f);
        int image = 5;
        var query = GalleryQuery.FromFeatures(f.Model, f.Test.ImageFeatures(image).ToArray(), f.Regions, 8);
        var hits = g.Search(f.Model, query, GalleryTarget.Images, 3, cancellationToken: Ct);
        Assert.Equal(image, hits[0].Index);
        Assert.Equal(1f, hits[0].Score, 1e-5);
        var captions = g.Search(f.Model, query, GalleryTarget.Captions, 3, rerank: f.Test.CaptionCount, cancellationToken: Ct);
        var full = f.FullScores(Enumerable.Range(0, f.Test.CaptionCount).Select(f.Test.CaptionText).ToArray());
        float best = Enumerable.Range(0, f.Test.CaptionCount).Max(c => full[image * f.Test.CaptionCount + c]);
        Assert.Equal(best, captions[0].Score, 3e-3);
    }

    [Theory]
    [InlineData(VectorIndexKind.Exact)]
    [InlineData(VectorIndexKind.Int8)]
    [InlineData(VectorIndexKind.Hnsw)]
    public void Should_RoundTripItemsVectorsAndMetadata(VectorIndexKind kind)
    {
        using var f = new GalleryFixture("scan");
        using var g = Build(f, kind);
        g.Save(f.File("g.index"), cancellationToken: Ct);
        using var opened = GalleryIndex.Open(f.File("g.index"));
        Assert.Equal(g.Images.Items, opened.Images.Items);
        Assert.Equal(g.Captions!.Items, opened.Captions!.Items);
        Assert.Equal("test_ims", Path.GetFileNameWithoutExtension(f.Test.FeaturesPath));
        Assert.Equal(kind.ToString().ToLowerInvariant(), opened.Metadata.Structure);
        Assert.Equal(g.Metadata.Checkpoint, opened.Metadata.Checkpoint);
        Assert.Equal($"{f.Test.ImageIds?[0] ?? "test:0"}", opened.Images.Items[0].Id);
        Assert.Equal("a", opened.Captions.Items[0].Text[..1]);
        for (int i = 0; i < g.Images.Count; i++)
        {
            var a = g.Images.Rows(i);
            var b = opened.Images.Rows(i);
            Assert.Equal(a, b);
            Assert.Equal(f.Regions, b.Length / 12);
        }
        var query = GalleryQuery.FromText(f.Model, "a blue star");
        Assert.Equal(g.Search(f.Model, query, GalleryTarget.Images, 5, cancellationToken: Ct), opened.Search(f.Model, query, GalleryTarget.Images, 5, cancellationToken: Ct));
    }

    [Theory]
    [InlineData("vsepp", VectorIndexKind.Exact)]
    [InlineData("vsepp", VectorIndexKind.Int8)]
    [InlineData("scan", VectorIndexKind.Exact)]
    [InlineData("scan", VectorIndexKind.Hnsw)]
    public void Should_GiveBackEveryItemsEncoding_FromAMappedFile(string family, VectorIndexKind kind)
    {
        using var f = new GalleryFixture(family);
        using (var g = Build(f, kind)) g.Save(f.File("g.index"), cancellationToken: Ct);
        using var opened = GalleryIndex.Open(f.File("g.index"));
        var encodings = opened.Images.Encodings(Ct);
        var expected = f.Model.EncodeImages(f.Test, cancellationToken: Ct);
        Assert.Equal(expected.Count, encodings.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected.Length(i), encodings.Length(i));
            var e = expected.Item(i);
            var got = encodings.Item(i);
            // Single-vector models: the stored float32 vectors; cross-attention models: the float16 rows widened.
            for (int j = 0; j < e.Length; j++) Assert.Equal(family == "scan" ? (float)(Half)e[j] : e[j], got[j], family == "scan" ? 0f : 1e-6f);
        }
    }

    [Fact]
    public void Should_Refuse_ToGiveBackTheVectorsOfASingleVectorHnswGallery()
    {
        using var f = new GalleryFixture("vsepp");
        using var g = Build(f, VectorIndexKind.Hnsw);
        var e = Assert.Throws<InvalidDataException>(() => g.Images.Encodings(Ct));
        Assert.Contains("--structure exact or int8", e.Message);
    }

    [Fact]
    public void Should_AppendItems_AsIfBuiltAtOnce()
    {
        using var f = new GalleryFixture("scan");
        using var all = Build(f);
        int n = f.Test.ImageCount;
        var features = Enumerable.Range(0, n).SelectMany(i => f.Test.ImageFeatures(i).ToArray()).ToArray();
        var items = all.Images.Items;
        int length = f.Regions * 8, split = 17;
        using (var first = GalleryIndex.Create(f.Model, CheckpointIdentity.Of(f.CheckpointPath), VectorIndexKind.Exact, f.Regions, 8, false))
        {
            first.AddImages(f.Model, features[..(split * length)], items.Take(split).ToArray(), cancellationToken: Ct);
            first.Save(f.File("a.index"), cancellationToken: Ct);
        }
        using (var writable = GalleryIndex.Open(f.File("a.index"), writable: true))
        {
            writable.AddImages(f.Model, features[(split * length)..], items.Skip(split).ToArray(), cancellationToken: Ct);
            writable.Save(f.File("a.index"), cancellationToken: Ct); // over the file it is mapped from
        }
        using var appended = GalleryIndex.Open(f.File("a.index"));
        Assert.Equal(items, appended.Images.Items);
        for (int i = 0; i < n; i++) Assert.Equal(all.Images.Rows(i), appended.Images.Rows(i));
        foreach (var q in Queries)
        {
            var query = GalleryQuery.FromText(f.Model, q);
            Assert.Equal(all.Search(f.Model, query, GalleryTarget.Images, 6, cancellationToken: Ct), appended.Search(f.Model, query, GalleryTarget.Images, 6, cancellationToken: Ct));
        }
    }

    [Fact]
    public void Should_LeaveTheOldIndexIntact_WhenAnAppendFails()
    {
        using var f = new GalleryFixture("vsepp");
        using (var g = Build(f, captions: false)) g.Save(f.File("g.index"), cancellationToken: Ct);
        var before = File.ReadAllBytes(f.File("g.index"));
        using (var writable = GalleryIndex.Open(f.File("g.index"), writable: true))
        {
            var features = f.Test.ImageFeatures(0).ToArray().Concat(f.Test.ImageFeatures(1).ToArray()).ToArray();
            // A bad item (a tab in its id) is refused before anything is added; nothing is saved.
            var e = Assert.Throws<ArgumentException>(() => writable.AddImages(f.Model, features, [new("x", "", ""), new("bad\tid", "", "")], cancellationToken: Ct));
            Assert.Contains("tabs", e.Message);
            Assert.Equal(f.Test.ImageCount, writable.Images.Count);
            // A write that fails (the folder became read-only) leaves the old file.
            writable.AddImages(f.Model, features, [new("x", "", ""), new("y", "", "")], cancellationToken: Ct);
            if (!OperatingSystem.IsWindows() && Environment.UserName != "root")
            {
                File.SetUnixFileMode(f.Data.Directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
                try { Assert.Throws<IOException>(() => writable.Save(f.File("g.index"), cancellationToken: Ct)); }
                finally { File.SetUnixFileMode(f.Data.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
            }
        }
        Assert.Equal(before, File.ReadAllBytes(f.File("g.index")));
    }

    [Fact]
    public void Should_RefuseAnotherCheckpoint()
    {
        using var f = new GalleryFixture("vsepp");
        using (var g = Build(f)) g.Save(f.File("g.index"), cancellationToken: Ct);
        using var other = new GalleryFixture("vsepp", seed: 2);
        using var opened = GalleryIndex.Open(f.File("g.index"));
        var e = Assert.Throws<InvalidDataException>(() => opened.LoadModel(other.CheckpointPath, cancellationToken: Ct));
        Assert.Contains("sha256", e.Message);
        Assert.Contains(other.CheckpointPath, e.Message);
        Assert.NotNull(opened.LoadModel(cancellationToken: Ct)); // the recorded one loads
        File.AppendAllText(f.CheckpointPath, " "); // the recorded file changed
        Assert.Throws<InvalidDataException>(() => opened.LoadModel(cancellationToken: Ct));
    }

    [Fact]
    public void Should_RefuseTruncatedAndForeignFiles_WithOneClearError()
    {
        using var f = new GalleryFixture("scan");
        using (var g = Build(f)) g.Save(f.File("g.index"), cancellationToken: Ct);
        var bytes = File.ReadAllBytes(f.File("g.index"));
        foreach (int cut in new[] { 0, 7, 64, 100, bytes.Length / 2, bytes.Length - 64, bytes.Length - 1 })
        {
            File.WriteAllBytes(f.File("t.index"), bytes[..cut]);
            var e = Assert.Throws<InvalidDataException>(() => GalleryIndex.Open(f.File("t.index")));
            Assert.Contains("t.index", e.Message);
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("not a CrossModal gallery index"), e.Message);
        }
        var e2 = Assert.Throws<InvalidDataException>(() => GalleryIndex.Open(f.Test.FeaturesPath));
        Assert.Contains("not a CrossModal gallery index", e2.Message);
        Assert.Contains("NUMPY", e2.Message);
        // A flipped byte in the metadata is caught by its CRC; one in a vector section header by the section's.
        long metaOffset = BitConverter.ToInt64(bytes, bytes.Length - 56);
        var damaged = (byte[])bytes.Clone();
        damaged[metaOffset + 5] ^= 1;
        File.WriteAllBytes(f.File("d.index"), damaged);
        Assert.Contains("CRC", Assert.Throws<InvalidDataException>(() => GalleryIndex.Open(f.File("d.index"))).Message);
    }

    [Fact]
    public void Should_RefuseEmptyQueriesAndKZero()
    {
        using var f = new GalleryFixture("vsepp");
        using var g = Build(f);
        Assert.Throws<ArgumentException>(() => GalleryQuery.FromText(f.Model, "   "));
        var query = GalleryQuery.FromText(f.Model, "a purple circle");
        Assert.Equal(["purple"], query.UnknownWords);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Search(f.Model, query, GalleryTarget.Images, 0, cancellationToken: Ct));
    }

    [Fact]
    public void Should_GiveTheSameResults_ForAnyThreadCount()
    {
        using var f = new GalleryFixture("scan");
        using var g = Build(f);
        var query = GalleryQuery.FromText(f.Model, "a red star");
        int saved = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 1;
            var one = g.Search(f.Model, query, GalleryTarget.Images, 5, rerank: 10, cancellationToken: Ct);
            Parallelism.Threads = 2;
            Assert.Equal(one, g.Search(f.Model, query, GalleryTarget.Images, 5, rerank: 10, cancellationToken: Ct));
        }
        finally { Parallelism.Threads = saved; }
    }
}
