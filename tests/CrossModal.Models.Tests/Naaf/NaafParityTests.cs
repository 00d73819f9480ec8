using System.Globalization;
using System.Text.Json;
using CrossModal.Models.Naaf;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Models.Tests.Naaf;

/// <summary>
/// NAAF's scorers against the original code (tests/fixtures/naaf, written by tools/reference/naaf_fixtures.py from
/// CrossmodalGroup/NAAF cafcd6f): training scores and gradients at a fixed threshold, the threshold learning over
/// sequences of batches, and the float64 test scorer with intra-sentence smoothing. Tolerance 1e-4 relative
/// (|ours - torch| ≤ 1e-4 (|torch| + 0.01 max|torch|)).
/// </summary>
public class NaafParityTests
{
    private static float Meta(SafetensorsFile f, string key) => float.Parse(f.Metadata[key], CultureInfo.InvariantCulture);

    private static int[] Ints(Tensor t) => t.ToArray().Select(v => (int)v).ToArray();

    [Theory]
    [InlineData("train_thres_0")]
    [InlineData("train_thres_pos")]
    public void Should_MatchTheOriginal_TrainingScoresAndGradients_AtAFixedThreshold(string name)
    {
        var inputs = Safetensors.Read(TestData.Fixture("naaf", "train_inputs.safetensors"));
        var expected = Safetensors.Read(TestData.Fixture("naaf", name + ".safetensors"));
        var images = inputs.Get("images").Clone();
        var captions = inputs.Get("captions").Clone();
        images.RequiresGrad = true;
        captions.RequiresGrad = true;
        var lengths = Ints(inputs.Get("lengths"));
        var thresholds = Enumerable.Repeat(Meta(expected, "thres"), lengths.Length).ToArray();

        var scores = NaafAttention.Scores(images, captions, lengths, Meta(inputs, "lambda_softmax"), thresholds);
        Tape.Backward(scores, inputs.Get("upstream"));

        AssertClose(expected.Get("scores").ToArray(), scores.ToArray(), name + " scores");
        AssertClose(expected.Get("d_images").ToArray(), images.Grad!.ToArray(), name + " d_images");
        AssertClose(expected.Get("d_captions").ToArray(), captions.Grad!.ToArray(), name + " d_captions");
    }

    [Theory]
    [InlineData("dmm_alpha2")]
    [InlineData("dmm_alpha20")]
    public void Should_ReplayTheOriginalThresholdLearning_OverASequenceOfBatches(string name)
    {
        var f = Safetensors.Read(TestData.Fixture("naaf", name + ".safetensors"));
        using var json = JsonDocument.Parse(File.ReadAllText(TestData.Fixture("naaf", name + ".json")));
        float alpha = Meta(f, "alpha"), lambda = Meta(f, "lambda_softmax");
        int batches = int.Parse(f.Metadata["batches"], CultureInfo.InvariantCulture);
        var state = new ThresholdState(ThresholdState.NewBuffers());
        state.Set(f.Get("initial_state").ToArray().Select(v => (double)v).ToArray());
        int updates = 0;
        for (int k = 0; k < batches; k++)
        {
            string p = $"batch{k}.";
            var images = f.Get(p + "images").Clone();
            var captions = f.Get(p + "captions").Clone();
            images.RequiresGrad = true;
            captions.RequiresGrad = true;
            var lengths = Ints(f.Get(p + "lengths"));
            var trace = new MiningTrace();

            var scores = NaafAttention.ScoresWithLearning(images, captions, lengths, lambda, state, alpha, trace);
            Tape.Backward(scores, f.Get(p + "upstream"));

            Assert.Equal(Ints(f.Get(p + "correct")), trace.Correct.Select(c => c ? 1 : 0).ToArray());
            Assert.Equal(Ints(f.Get(p + "neg_index")), trace.NegativeIndex.ToArray());
            var used = f.Get(p + "thres_used").ToArray();
            for (int c = 0; c < used.Length; c++)
                Assert.True(Math.Abs(used[c] - trace.ThresholdUsed[c]) <= 1e-4 * Math.Max(Math.Abs(used[c]), 1e-3), $"{name} batch {k} caption {c}: threshold {trace.ThresholdUsed[c]}, original {used[c]}");
            var after = f.Get(p + "state").ToArray();
            var ours = state.ToArray();
            for (int i = 0; i < after.Length; i++)
                Assert.True(Math.Abs(after[i] - ours[i]) <= 1e-4 * Math.Max(Math.Abs(after[i]), 1e-3), $"{name} batch {k}: {ThresholdState.Keys[i]} = {ours[i]}, original {after[i]}");
            AssertClose(f.Get(p + "scores").ToArray(), scores.ToArray(), $"{name} batch {k} scores");
            AssertClose(f.Get(p + "d_images").ToArray(), images.Grad!.ToArray(), $"{name} batch {k} d_images");
            AssertClose(f.Get(p + "d_captions").ToArray(), captions.Grad!.ToArray(), $"{name} batch {k} d_captions");
            Assert.Equal(json.RootElement.GetProperty("batches")[k].GetProperty("updates").GetArrayLength(), trace.Updates);
            updates += trace.Updates;
        }
        Assert.True(updates > 0, "the sequence never updated the threshold");
    }

    [Fact]
    public void Should_UpdateItsThresholdBuffers_InTrainingModeOnly()
    {
        // The model's Scores is the original's forward: in training mode it runs the learning on the model's buffers
        // (batch 1 of the alpha-2 sequence updates six times); in evaluation mode it scores with thres_safe and
        // leaves them alone.
        var f = Safetensors.Read(TestData.Fixture("naaf", "dmm_alpha2.safetensors"));
        var model = new NaafModel(new NaafConfig { VocabSize = 10, ImgDim = 16, EmbedSize = 16, WordDim = 4, Alpha = Meta(f, "alpha") }, new Rng(0));
        model.Threshold.Set(f.Get("batch0.state").ToArray().Select(v => (double)v).ToArray());
        var images = f.Get("batch1.images");
        var captions = f.Get("batch1.captions");
        var lengths = Ints(f.Get("batch1.lengths"));

        model.Eval();
        var before = model.Threshold.ToArray();
        model.Scores(images, captions, lengths);
        Assert.Equal(before, model.Threshold.ToArray());

        model.Train();
        var scores = model.Scores(images, captions, lengths);
        AssertClose(f.Get("batch1.scores").ToArray(), scores.ToArray(), "training-mode scores");
        Assert.Equal(6, model.LastMining!.Updates);
        var want = f.Get("batch1.state").ToArray();
        var got = model.Threshold.ToArray();
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-4 * Math.Abs(want[i]), $"{ThresholdState.Keys[i]}: {got[i]} vs {want[i]}");
        Assert.Equal(model.Threshold.ThresSafe, model.StateDict().Single(e => e.Name == "thres_safe").Tensor.Data[0]);
    }

    [Theory]
    [InlineData("test_thres_0")]
    [InlineData("test_thres_pos")]
    public void Should_MatchTheOriginal_TestScores_WithIntraSentenceSmoothing(string name)
    {
        var inputs = Safetensors.Read(TestData.Fixture("naaf", "test_inputs.safetensors"));
        var expected = Safetensors.Read(TestData.Fixture("naaf", name + ".safetensors"));
        var images = inputs.Get("images");
        var captions = inputs.Get("captions");
        var lengths = Ints(inputs.Get("lengths"));
        int bi = images.Dim(0), r = images.Dim(1), d = images.Dim(2), bc = captions.Dim(0), t = captions.Dim(1);
        var words = new List<float>();
        for (int c = 0; c < bc; c++) words.AddRange(captions.Data.Slice(c * t * d, lengths[c] * d).ToArray());
        var output = new float[bi * bc];

        NaafAttention.ScoreBlock(images.Data, bi, r, words.ToArray(), lengths, d, Meta(inputs, "lambda_softmax"), Meta(expected, "thres_safe"), output, bc);

        AssertClose(expected.Get("scores").ToArray(), output, name);
    }

    internal static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = 1e-4 * (Math.Abs(expected[i]) + 0.01 * scale);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: ours {actual[i]:G7}, original {expected[i]:G7}");
        }
    }
}
