using CrossModal.Data;
using CrossModal.Models.Naaf;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

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

    /// <summary>
    /// The whole step against the original's train_emb (tools/reference/naaf_step_fixtures.py): encoders, training
    /// scores, hinge with hardest negatives, clip_grad_norm 2 and Adam lr 5e-4 over the same parameters, three steps
    /// from the same weights. Each step's loss (the second and third depend on the earlier updates) within 1e-5
    /// relative, and every parameter's total update within 1e-3 relative of its norm: Adam's first steps are about
    /// lr x sign(g), so an element whose gradient is rounding noise moves by up to 2 lr on one side, which bounds the
    /// tolerance from below (a parameter of 8 to 300 elements).
    /// </summary>
    [Fact]
    public void Should_MatchTheOriginalTrainingStep_EncodersScoresLossClippingAndAdam()
    {
        var f = Safetensors.Read(TestData.Fixture("naaf", "train_steps.safetensors"));
        var family = new NaafFamily();
        var config = new NaafConfig { ImgDim = 6, EmbedSize = 8, WordDim = 4, VocabSize = 12, LambdaSoftmax = 20 };
        var model = (NaafModel)family.Create(config, new Rng(1));
        var parameters = model.NamedParameters().ToList();
        foreach (var (name, t) in parameters) f.Get("init." + name).Data.CopyTo(t.Data);
        var recipe = family.DefaultRecipe with { LearningRate = 5e-4f, GradClip = 2f, Margin = 0.2f, MaxViolation = true };
        var objective = family.CreateObjective(model, recipe);
        model.Train();
        for (int k = 0; k < 3; k++)
        {
            var images = f.Get($"step{k}.images");
            var lengths = f.Get($"step{k}.lengths").ToArray().Select(v => (int)v).ToArray();
            var tokens = f.Get($"step{k}.tokens").ToArray().Select(v => (int)v).ToArray();
            var idx = Enumerable.Range(0, lengths.Length).ToArray();
            var result = objective.Step(new Batch(idx, idx, images, tokens, lengths, lengths[0]), new TrainingStep(0, k + 1));
            float expected = f.Get($"step{k}.loss").ToScalar();
            Assert.True(Math.Abs(result.Loss - expected) <= 1e-5 * expected, $"step {k}: loss {result.Loss}, the original {expected}");
        }
        foreach (var (name, t) in parameters)
        {
            var before = f.Get("init." + name).ToArray();
            var after = f.Get("after." + name).ToArray();
            double diff = 0, norm = 0;
            for (int i = 0; i < after.Length; i++)
            {
                double expectedUpdate = after[i] - before[i], ours = t.Data[i] - before[i];
                diff += (ours - expectedUpdate) * (ours - expectedUpdate);
                norm += expectedUpdate * expectedUpdate;
            }
            Assert.True(norm > 0, $"{name}: the original did not update it");
            Assert.True(Math.Sqrt(diff) <= 1e-3 * Math.Sqrt(norm), $"{name}: update differs by {Math.Sqrt(diff / norm):E2} of its norm");
        }
    }
}
