using CrossModal.Data;
using CrossModal.Models.Naaf;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models.Tests.Naaf;

/// <summary>NAAF's training step: the family's objective trains with the hinge loss and reports the threshold state.</summary>
public class NaafObjectiveTests
{
    [Fact]
    public void Should_TrainAndReportTheThresholdState_AsNamedTerms()
    {
        var family = new NaafFamily();
        var config = new NaafConfig { ImgDim = 6, EmbedSize = 8, WordDim = 4, VocabSize = 12 };
        var model = (NaafModel)family.Create(config, new Rng(1));
        model.Threshold.Set([0.4, 0.3, 0.5, 0.1, 0.2, 0.1]);
        var objective = family.CreateObjective(model, family.DefaultRecipe);
        Assert.IsType<NaafObjective>(objective);
        var rng = new Rng(2);
        int b = 6, maxLen = 5;
        var lengths = new[] { 5, 5, 4, 4, 3, 3 };
        var tokens = new int[b * maxLen];
        for (int i = 0; i < b; i++)
            for (int t = 0; t < lengths[i]; t++) tokens[i * maxLen + t] = 4 + rng.NextInt(8);
        var features = Tensor.Zeros(b, 3, 6);
        rng.Uniform(features.Data, 0f, 1f);
        var idx = Enumerable.Range(0, b).ToArray();
        var before = model.StateDict().Single(e => e.Name == "img_enc.fc.weight").Tensor.ToArray();

        var result = objective.Step(new Batch(idx, idx, features, tokens, lengths, maxLen), new TrainingStep(0, 1));

        Assert.True(result.Loss > 0);
        Assert.Equal(result.Loss, result.Terms["hinge"], 5);
        // 6 captions of at most 5 words never pass the 200-word trigger: the first caption used 0.4, then the reset.
        Assert.Equal(0, result.Terms["thres"]);
        Assert.Equal(0, result.Terms["thres_safe"]);
        Assert.Equal(0, result.Terms["thres_updates"]);
        // Without an update the distribution statistics keep the values set above (only thres/thres_safe are reset).
        Assert.Equal(0.5f, result.Terms["mean_pos"]);
        Assert.Equal(0.1f, result.Terms["stnd_pos"]);
        Assert.Equal(0.2f, result.Terms["mean_neg"]);
        Assert.Equal(0.1f, result.Terms["stnd_neg"]);
        Assert.Equal(0.4f, model.LastMining!.ThresholdUsed[0]);
        Assert.NotEqual(before, model.StateDict().Single(e => e.Name == "img_enc.fc.weight").Tensor.ToArray());
    }
}
