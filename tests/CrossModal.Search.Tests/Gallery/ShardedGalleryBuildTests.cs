using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Distributed.InProcess;
using CrossModal.Search.Gallery;
using CrossModal.Tensors.Threading;
using CrossModal.Tests;

namespace CrossModal.Search.Tests.Gallery;

/// <summary>
/// The index build shared among ranks (ranks as threads): rank 0 writes a file byte-identical to the one-process
/// build, for a single-vector and a cross-attention model, with 2 and 3 ranks (300 images are 3 batches of 128, the
/// last one short, so some ranks sit rounds out; 1,500 captions are 12); a failure on one rank ends the others with
/// its message and the index already on disk stays as it was.
/// </summary>
[Collection(CrossModal.Tests.ThreadCountCollection.Name)]
public class ShardedGalleryBuildTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GalleryIndex Create(GalleryFixture f, VectorIndexKind kind) =>
        GalleryIndex.Create(f.Model, CheckpointIdentity.Of(f.CheckpointPath), kind, f.Regions, 8, withCaptions: true);

    [Theory]
    [InlineData("vsepp", VectorIndexKind.Exact, 2)]
    [InlineData("vsepp", VectorIndexKind.Int8, 3)]
    [InlineData("scan", VectorIndexKind.Exact, 2)]
    [InlineData("scan", VectorIndexKind.Exact, 3)]
    public void Should_WriteTheOneProcessFile_WhenRanksShareTheEncoding(string family, VectorIndexKind kind, int ranks)
    {
        int threads = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 1;
            using var f = new GalleryFixture(family, testImages: 300);
            Assert.Equal(1500, f.Test.CaptionCount);
            using (var one = Create(f, kind))
            {
                GalleryBuilder.AddPrecomp(one, f.Model, f.Test, "/images", Ct);
                one.Save(f.File("one.index"), Ct);
            }
            InProcessWorld.RunAll(ranks, c =>
            {
                using var g = Create(f, kind);
                GalleryBuilder.AddPrecomp(g, f.Model, f.Test, "/images", c, Ct);
                if (c.Rank == 0) g.Save(f.File("sharded.index"), Ct);
                else Assert.Equal(0, g.Images.Count);
            });
            Assert.Equal(File.ReadAllBytes(f.File("one.index")), File.ReadAllBytes(f.File("sharded.index")));
            using var opened = GalleryIndex.Open(f.File("sharded.index"));
            Assert.Equal(300, opened.Images.Count);
            Assert.Equal(1500, opened.Captions!.Count);
        }
        finally
        {
            Parallelism.Threads = threads;
        }
    }

    [Fact]
    public void Should_EndEveryRankWithTheFailingRanksMessage_AndKeepTheOldIndex()
    {
        using var f = new GalleryFixture("scan", testImages: 300);
        using (var old = Create(f, VectorIndexKind.Exact))
        {
            GalleryBuilder.AddPrecomp(old, f.Model, f.Test, null, Ct);
            old.Save(f.File("g.index"), Ct);
        }
        var before = File.ReadAllBytes(f.File("g.index"));
        // Rank 1 reads a split whose features do not fit the gallery (another machine's copy of the data, say).
        using var other = new TinyPrecomp(trainImages: 2, devImages: 2, testImages: 5, regions: 4, seed: 3);
        using var wrong = PrecompDataset.Open(other.Directory, "test", f.Vocabulary, cancellationToken: Ct);
        var errors = InProcessWorld.Run(2, c =>
        {
            using var g = Create(f, VectorIndexKind.Exact);
            GalleryBuilder.AddPrecomp(g, f.Model, c.Rank == 1 ? wrong : f.Test, null, c, Ct);
            if (c.Rank == 0) g.Save(f.File("g.index"), Ct);
        });
        var own = Assert.IsType<InvalidDataException>(errors[1]);
        var seen = Assert.IsType<RankFailedException>(errors[0]);
        Assert.Equal(1, seen.FailedRank);
        Assert.Equal(own.Message, seen.RankMessage);
        Assert.Contains("features of 4 x 8 per image", seen.Message);
        Assert.Equal(before, File.ReadAllBytes(f.File("g.index")));
    }
}
