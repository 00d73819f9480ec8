using CrossModal.Distributed.InProcess;
using CrossModal.Tensors;

namespace CrossModal.Distributed.Tests;

/// <summary>Failures the ranks agree on, and the check that the ranks still hold one model.</summary>
public class AgreementTests
{
    [Fact]
    public void Should_FailEveryRankWithTheLowestFailingRanksMessage()
    {
        var errors = InProcessWorld.Run(4, c => Agreement.Run(c, () =>
        {
            if (c.Rank is 2 or 3) throw new FileNotFoundException($"data{c.Rank}/train_ims.npy: file not found.");
            return c.Rank;
        }));
        foreach (var e in errors)
        {
            var f = Assert.IsType<RankFailedException>(e);
            Assert.Equal(2, f.FailedRank);
            Assert.Equal("rank 2: data2/train_ims.npy: file not found.", f.Message);
        }
        Assert.IsType<FileNotFoundException>(errors[2]!.InnerException);
    }

    [Fact]
    public void Should_ReportTheMessageAlone_WhenEveryRankFailed()
    {
        var errors = InProcessWorld.Run(2, c => Agreement.Run(c, () => throw new ArgumentException("--batch-size must be at least 2")));
        Assert.All(errors, e => Assert.Equal("--batch-size must be at least 2", Assert.IsType<RankFailedException>(e).Message));
    }

    [Fact]
    public void Should_KeepTheFirstFailure_ThroughNestedAgreements()
    {
        var errors = InProcessWorld.Run(3, c => Agreement.Run(c, () => Agreement.Run(c, () =>
        {
            if (c.Rank == 1) throw new InvalidDataException("bad vocab");
            return 0;
        })));
        Assert.All(errors, e => Assert.Equal("rank 1: bad vocab", Assert.IsType<RankFailedException>(e).Message));
    }

    [Fact]
    public void Should_ReturnEveryRanksResult_WhenNoneFailed()
    {
        var results = new int[3];
        InProcessWorld.RunAll(3, c => results[c.Rank] = Agreement.Run(c, () => c.Rank * 2));
        Assert.Equal(new[] { 0, 2, 4 }, results);
    }

    [Fact]
    public void Should_DetectRanksWhoseWeightsDiffer_AndBroadcastRankZerosWeights()
    {
        var errors = InProcessWorld.Run(3, c =>
        {
            var w = Tensor.FromArray(new[] { 1f, 2f, c.Rank == 2 ? 3.0000002f : 3f }, 3);
            ParameterSync.CheckIdentical(c, new[] { w }, "after epoch 1");
        });
        Assert.All(errors, e => Assert.Contains("weights differ after epoch 1 (rank 2's checksum", Assert.IsType<InvalidOperationException>(e).Message));
        InProcessWorld.RunAll(3, c =>
        {
            var w = Tensor.FromArray(new[] { c.Rank + 0.5f, -c.Rank }, 2);
            ParameterSync.Broadcast(c, new[] { w });
            Assert.Equal(new[] { 0.5f, 0f }, w.ToArray());
            ParameterSync.CheckIdentical(c, new[] { w }, "after the broadcast");
        });
    }
}
