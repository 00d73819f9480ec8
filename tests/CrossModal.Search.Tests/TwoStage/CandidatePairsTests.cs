using CrossModal.Search.TwoStage;

namespace CrossModal.Search.Tests.TwoStage;

public class CandidatePairsTests
{
    [Fact]
    public void Should_KeepEachPairOnce_GroupedByTheSideWithFewerItems()
    {
        // 2 images, 4 captions; (1, 3) and (0, 2) asked twice (once per direction).
        int[] images = [1, 0, 1, 0, 1, 0];
        int[] captions = [3, 2, 0, 2, 3, 1];
        var pairs = new CandidatePairs(2, 4, images, captions);
        Assert.True(pairs.ByImage);
        Assert.Equal(4, pairs.Count);
        Assert.Equal([1, 2], pairs.Partners(0).ToArray());
        Assert.Equal([0, 3], pairs.Partners(1).ToArray());
        Assert.Equal(0, pairs.IndexOf(0, 1));
        Assert.Equal(1, pairs.IndexOf(0, 2));
        Assert.Equal(2, pairs.IndexOf(1, 0));
        Assert.Equal(3, pairs.IndexOf(1, 3));
        Assert.Equal(-1, pairs.IndexOf(0, 3));
        Assert.Equal(-1, pairs.IndexOf(1, 1));
    }

    [Fact]
    public void Should_GroupByCaption_WhenFewerCaptionsArePaired()
    {
        // A large gallery searched by two captions: 3 images each.
        int[] images = [7, 2, 9, 2, 5, 8];
        int[] captions = [4, 4, 4, 1, 1, 1];
        var pairs = new CandidatePairs(10, 6, images, captions);
        Assert.False(pairs.ByImage);
        Assert.Equal(6, pairs.GroupCount);
        Assert.Equal([2, 5, 8], pairs.Partners(1).ToArray());
        Assert.Equal([2, 7, 9], pairs.Partners(4).ToArray());
        Assert.Equal(0, pairs.Partners(0).Length);
        Assert.Equal(3 + 1, pairs.IndexOf(7, 4));
        Assert.Equal(-1, pairs.IndexOf(7, 1));
    }

    [Fact]
    public void Should_RefuseIdsOutsideTheGallery()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CandidatePairs(2, 4, [2], [0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CandidatePairs(2, 4, [0], [-1]));
        Assert.Throws<ArgumentException>(() => new CandidatePairs(2, 4, [0, 1], [0]));
    }
}
