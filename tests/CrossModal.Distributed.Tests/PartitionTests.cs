namespace CrossModal.Distributed.Tests;

public class PartitionTests
{
    [Theory]
    [InlineData(1000, 3, 128)]
    [InlineData(125, 2, 128)]
    [InlineData(10, 4, 3)]
    [InlineData(5, 8, 1)]
    [InlineData(0, 2, 128)]
    public void Should_CoverEveryItemOnce_InWholeBlocks(int count, int ranks, int align)
    {
        int next = 0;
        for (int r = 0; r < ranks; r++)
        {
            var (s, e) = Partition.Contiguous(count, r, ranks, align);
            Assert.Equal(next, s);
            Assert.True(s % align == 0 || s == count, $"rank {r} starts at {s}, not a multiple of {align}");
            next = e;
        }
        Assert.Equal(count, next);
        Assert.Equal(count, Partition.ContiguousCounts(count, ranks, align).Sum());
    }

    [Fact]
    public void Should_GiveTheFirstRanksTheExtraBlock()
    {
        // 1000 items in blocks of 128 = 8 blocks (the last 104 items): 3, 3, 2 blocks.
        Assert.Equal((0, 384), Partition.Contiguous(1000, 0, 3, 128));
        Assert.Equal((384, 768), Partition.Contiguous(1000, 1, 3, 128));
        Assert.Equal((768, 1000), Partition.Contiguous(1000, 2, 3, 128));
    }
}
