using CrossModal.Distributed.InProcess;

namespace CrossModal.Distributed.Tests;

/// <summary>The in-process world (ranks as threads) and the one-process communicator keep the collectives' contract.</summary>
public class CommunicatorTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Should_KeepTheCollectivesContract_InProcess(int ranks) => InProcessWorld.RunAll(ranks, CollectiveChecks.All);

    [Fact]
    public void Should_KeepTheCollectivesContract_InOneProcess() => CollectiveChecks.All(new SingleProcessCommunicator());

    [Fact]
    public void Should_EndEveryRankWithTheFailingRanksMessage_WhenOneRankFails()
    {
        // Rank 1 fails before the all-reduce the others wait in: they must not hang, and they learn who failed and why.
        var errors = InProcessWorld.Run(3, c =>
        {
            if (c.Rank == 1) throw new InvalidDataException("train_ims.npy: bad header");
            c.AllReduce<float>(new float[4], ReduceOperation.Sum);
        });
        Assert.IsType<InvalidDataException>(errors[1]);
        foreach (int r in new[] { 0, 2 })
        {
            var e = Assert.IsType<RankFailedException>(errors[r]);
            Assert.Equal(1, e.FailedRank);
            Assert.Equal("rank 1: train_ims.npy: bad header", e.Message);
        }
    }

    [Fact]
    public void Should_RefuseCountsThatDoNotMatchTheBuffers()
    {
        var c = new SingleProcessCommunicator();
        var e = Assert.Throws<ArgumentException>(() => c.AllGatherV<float>(new float[3], new float[4], new[] { 4 }));
        Assert.Contains("holds 3 elements, its count says 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => c.ReduceScatterV<float>(new float[5], new float[2], new[] { 2 }));
        Assert.Contains("the counts add up to 2", e.Message);
    }

    [Fact]
    public void Should_CountPayloadAndRingBytes()
    {
        InProcessWorld.RunAll(2, c =>
        {
            var before = c.Stats.Snapshot();
            c.AllReduce<float>(new float[1000], ReduceOperation.Sum);
            c.AllGatherV<float>(new float[10], new float[20], new[] { 10, 10 });
            var step = c.Stats.Since(before);
            Assert.Equal(4000, step.PayloadBytes(CollectiveKind.AllReduce));
            Assert.Equal(80, step.PayloadBytes(CollectiveKind.AllGather));
            // Ring algorithms with 2 ranks: an all-reduce moves 2 (N-1)/N = 1 x its buffer, an all-gather half the concatenation.
            Assert.Equal(4000 + 40, step.WireBytes(2));
        });
    }
}
