using CrossModal.Data;
using CrossModal.Data.Category;
using CrossModal.Evaluation.Category;
using CrossModal.Models.CategoryBaselines;
using CrossModal.Tests;

namespace CrossModal.Evaluation.Tests.Category;

/// <summary>The standard and extendable protocols hand the fit exactly the pairs they may use and evaluate the right ones.</summary>
public sealed class CategoryProtocolTests
{
    [Fact]
    public void Should_TrainOnSeenClassesOnly_AndEvaluateUnseenAndAllTestPairs()
    {
        var train = CategoryDataset.Open(TestData.Path("wikipedia"), "train");
        var test = CategoryDataset.Open(TestData.Path("wikipedia"), "test");
        var split = ClassSplit.FromNames(["art", "biology", "geography", "history", "literature"], 10, train.Categories);
        CategoryDataset? seenTrain = null;
        CategoryProtocol.Fit fit = (tr, te, s) =>
        {
            seenTrain = tr;
            Assert.Same(split, s);
            return (Cca.Fit(tr.ImageFeatures.Data, 128, tr.TextFeatures.Data, 10, tr.Count), te);
        };
        var (unseen, generalised) = CategoryProtocol.Extendable(train, test, split, fit);
        // Seen training pairs: art 138 + biology 272 + geography 244 + history 248 + literature 202.
        Assert.Equal(138 + 272 + 244 + 248 + 202, seenTrain!.Count);
        Assert.All(seenTrain.Labels, l => Assert.InRange(l, 0, 4));
        // Unseen test pairs: media 58 + music 51 + royalty 41 + sport 71 + warfare 104; generalised: all 693.
        Assert.Equal(58 + 51 + 41 + 71 + 104, unseen.I2T.Queries);
        Assert.Equal(693, generalised.T2I.Queries);
        // Chance mAP is about the sum of squared class shares (0.22 for these 5 classes, 0.12 for all 10; a little more for small classes): the random
        // model lands there, CCA's codes transfer some structure to the unseen classes and beat it.
        var chance = CategoryProtocol.Extendable(train, test, split, (tr, te, _) => (new ChanceModel(128, 10), te));
        double share = new[] { 58, 51, 41, 71, 104 }.Sum(c => (double)c * c) / (325.0 * 325.0);
        Assert.InRange(chance.Unseen.MeanMap, share - 0.02, share + 0.02);
        Assert.True(unseen.MeanMap > chance.Unseen.MeanMap + 0.02, $"unseen mAP {unseen.MeanMap} vs chance {chance.Unseen.MeanMap}");
        Assert.True(generalised.MeanMap > chance.Generalised.MeanMap + 0.02, $"generalised mAP {generalised.MeanMap} vs chance {chance.Generalised.MeanMap}");
    }
}
