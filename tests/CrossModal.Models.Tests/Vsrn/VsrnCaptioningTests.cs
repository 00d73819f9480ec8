using CrossModal.Models.Vsrn;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Models.Tests.Vsrn;

/// <summary>
/// Greedy captioning (DecoderRNN's 'inference' mode with sample_max) against the teacher-forced decoder, whose
/// log-probabilities match the original's (VsrnParityTests): feeding &lt;start&gt; and then the greedy words as the
/// teacher-forced inputs must make every step's arg-max the greedy word of that step.
/// </summary>
public sealed class VsrnCaptioningTests
{
    [Theory]
    [InlineData("f30k_precomp")]
    [InlineData("coco_precomp")]
    public void Should_PickTheArgMaxOfTheTeacherForcedDecoder_AtEveryStep(string variant)
    {
        var fx = VsrnFixture.Load(variant);
        var model = fx.Model();
        model.Eval();
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        var (_, regions) = model.EncodeImagesWithRegions(fx.Images());
        var branch = model.CaptionBranch!;
        var words = branch.Generate(regions);
        int b = words.Length, t = fx.Config.MaxLen - 2;
        Assert.All(words, w => Assert.Equal(t, w.Length));
        var inputs = new int[b * t];
        for (int k = 0; k < b; k++)
        {
            inputs[k * t] = 1; // <start>
            for (int s = 1; s < t; s++) inputs[k * t + s] = words[k][s - 1];
        }
        var steps = Enumerable.Repeat(t, b).ToArray();
        var (logits, _, layout) = branch.Logits(regions, new CaptionTargets(steps, inputs, new int[b * t], t), steps);
        int v = logits.Dim(1);
        for (int s = 0; s < t; s++)
            for (int k = 0; k < b; k++)
            {
                var row = logits.Data.Slice((layout.SlotStart[s] + k) * v, v);
                Assert.Equal(System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row), words[k][s]);
            }
        // The model's captions: the words up to the first <end> (2) or <pad> (0).
        var captions = model.Caption(fx.Images());
        for (int k = 0; k < b; k++)
        {
            int end = Array.FindIndex(words[k], w => w is 0 or 2);
            Assert.Equal(end < 0 ? words[k] : words[k][..end], captions[k]);
        }
    }
}
