using CrossModal.Tensors;
using CrossModal.Text;

namespace CrossModal.Data.Tests;

/// <summary>Batching as the originals' DataLoader + collate_fn do it.</summary>
public sealed class BatchLoaderTests
{
    private static Vocabulary Vocab => Vocabulary.FromWords(["<pad>", "<start>", "<end>", "<unk>", "a", "dog", "runs", "."]);

    [Fact]
    public void Should_SortByLengthDescending_KeepingTiesInOrder_AndPadWithZeros()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("train", images: 3, regions: 2, dim: 2);
        using var data = dir.Open("train", Vocab);
        using var scope = TensorScope.Begin();
        // Caption k is "a dog" + (k*7 % 4) x "runs" + "." -> 5 + (k*7 % 4) ids with <start>/<end>:
        // k=0:5, 1:8, 2:7, 3:6, 4:5, 5:8, 6:7.
        var batch = data.CreateBatch([6, 0, 1, 4, 5, 3]);
        Assert.Equal(new[] { 1, 5, 6, 3, 0, 4 }, batch.CaptionIndices);
        Assert.Equal(new[] { 8, 8, 7, 6, 5, 5 }, batch.Lengths);
        Assert.Equal(8, batch.MaxLength);
        Assert.Equal(new[] { 0, 1, 1, 0, 0, 0 }, batch.ImageIndices);
        // Row 3 is caption 3: <start> a dog runs . <end>, then padding.
        Assert.Equal(new[] { 1, 4, 5, 6, 7, 2, 0, 0 }, batch.Row(3).ToArray());
        Assert.Equal(new[] { 1, 4, 5, 7, 2, 0, 0, 0 }, batch.Row(5).ToArray());
        Assert.Equal(new[] { 6, 2, 2 }, batch.Images.Shape);
        // Row 1 is caption 5 -> image 1: values 1, 1.0001, 1.01, 1.0101.
        Assert.Equal(new[] { TempPrecomp.Value(1, 0, 0), TempPrecomp.Value(1, 0, 1), TempPrecomp.Value(1, 1, 0), TempPrecomp.Value(1, 1, 1) }, batch.Images.ToArray()[4..8]);
    }

    [Fact]
    public void Should_VisitEveryCaptionOncePerEpoch_InConsecutiveChunksOfAPermutation()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("train", images: 7, regions: 0, dim: 3);
        using var data = dir.Open("train", Vocab);
        var loader = new BatchLoader(data, batchSize: 8, shuffle: true, new Rng(42));
        Assert.Equal(5, loader.BatchesPerEpoch);
        var expected = new Rng(42).Permutation(35);
        var epoch1 = loader.Epoch().ToList();
        Assert.Equal(new[] { 8, 8, 8, 8, 3 }, epoch1.Select(b => b.Size));
        for (int b = 0; b < 5; b++)
            Assert.Equal(expected.Skip(b * 8).Take(8).Order(), epoch1[b].CaptionIndices.Order());
        var epoch2 = loader.Epoch().ToList();
        Assert.NotEqual(epoch1.SelectMany(b => b.CaptionIndices), epoch2.SelectMany(b => b.CaptionIndices));
        Assert.Equal(Enumerable.Range(0, 35), epoch2.SelectMany(b => b.CaptionIndices).Order());
    }

    [Fact]
    public void Should_RepeatBatches_ForTheSameSeed()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("train", images: 5, regions: 0, dim: 3);
        using var data = dir.Open("train", Vocab);
        var a = new BatchLoader(data, 4, true, new Rng(7)).Epoch().SelectMany(b => b.CaptionIndices).ToArray();
        var b = new BatchLoader(data, 4, true, new Rng(7)).Epoch().SelectMany(b => b.CaptionIndices).ToArray();
        var c = new BatchLoader(data, 4, true, new Rng(8)).Epoch().SelectMany(b => b.CaptionIndices).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Should_DropTheIncompleteLastBatch_WhenAsked()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("train", images: 3, regions: 0, dim: 3);
        using var data = dir.Open("train", Vocab);
        var loader = new BatchLoader(data, 4, shuffle: true, new Rng(1), dropLast: true);
        Assert.Equal(3, loader.BatchesPerEpoch);
        Assert.Equal(new[] { 4, 4, 4 }, loader.Epoch().Select(b => b.Size));
    }

    [Fact]
    public void Should_KeepFileOrder_WithoutShuffling_AndResumeAtABatch()
    {
        using var dir = new TempPrecomp();
        dir.WriteSplit("test", images: 2, regions: 0, dim: 3);
        using var data = dir.Open("test", Vocab);
        var loader = new BatchLoader(data, 4, shuffle: false, rng: null);
        var batches = loader.Epoch().ToList();
        Assert.Equal(new[] { 0, 1, 2, 3 }, batches[0].CaptionIndices.Order());
        Assert.Equal(new[] { 4, 5, 6, 7 }, batches[1].CaptionIndices.Order());
        Assert.Equal(new[] { 8, 9 }, batches[2].CaptionIndices.Order());
        Assert.Equal(batches[1].CaptionIndices, loader.Epoch(startBatch: 1).First().CaptionIndices);
    }
}
