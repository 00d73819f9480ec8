using CrossModal.Models.Loss;
using CrossModal.Models.Objectives;
using CrossModal.Models.Vsrn;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.IO;

namespace CrossModal.Models.Tests.Vsrn;

/// <summary>
/// VSRN against the original code (tests/fixtures/vsrn: KunpengLi1994/VSRN @ 777ae74 ported to PyTorch 1.13 by
/// tools/reference/vsrn_reference.py, fixtures by vsrn_fixtures.py), both data_name variants, within 1e-4 relative
/// (<see cref="VsrnFixture.AssertClose"/>): the intermediate tensors, both embeddings, scores, hinge loss, caption
/// log-probabilities and NLL, the gradient of hinge + NLL for every parameter, the BatchNorm running statistics
/// after a training-mode forward, evaluation-mode embeddings, and the parameters after one and two of the original's
/// training steps (clipping active, every captioning parameter twice in the optimizer's list); with the captioning
/// dropouts at p = 0.2, the same losses and gradients with PyTorch's masks replayed.
/// </summary>
public sealed class VsrnParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Variants => new() { "f30k_precomp", "coco_precomp" };

    private void Check(VsrnFixture fx, string name, Tensor actual)
    {
        var (norm, element) = VsrnFixture.AssertClose(fx.Expected.Get(name).Data, actual.Data, name);
        output.WriteLine($"{name}: relative error {norm:E2} (norm-wise), {element:E2} (largest element)");
    }

    /// <summary>
    /// Every parameter's gradient against grad.* of the fixture. The conv bias before each GCN block's BatchNorm
    /// (W.0.bias) has gradient exactly 0 in exact arithmetic (a training-mode BatchNorm removes any constant shift),
    /// so both sides hold rounding noise there: it must be below 1e-4 of the matching weight's gradient.
    /// </summary>
    private void CheckGradients(VsrnFixture fx, VsrnModel model)
    {
        double worstNorm = 0, worstElement = 0;
        int count = 0;
        var grads = model.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.Grad!);
        foreach (var (name, g) in grads)
        {
            count++;
            if (name.EndsWith("W.0.bias", StringComparison.Ordinal))
            {
                float weightNorm = System.Numerics.Tensors.TensorPrimitives.Norm(fx.Expected.Get("grad." + name[..^4] + "weight").Data);
                float ours = System.Numerics.Tensors.TensorPrimitives.Norm(g.Data), torch = System.Numerics.Tensors.TensorPrimitives.Norm(fx.Expected.Get("grad." + name).Data);
                output.WriteLine($"grad.{name} (0 in exact arithmetic): |ours| {ours:E2}, |torch| {torch:E2}, |grad of the weight| {weightNorm:E2}");
                Assert.True(ours <= 1e-4 * weightNorm, $"grad.{name}: |ours| {ours:E2} is not rounding noise next to the weight's gradient {weightNorm:E2}");
                continue;
            }
            var (norm, element) = VsrnFixture.AssertClose(fx.Expected.Get("grad." + name).Data, g.Data, "grad." + name);
            worstNorm = Math.Max(worstNorm, norm);
            worstElement = Math.Max(worstElement, element);
        }
        Assert.Equal(fx.Expected.Tensors.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)), count);
        output.WriteLine($"{count} parameter gradients: largest relative error {worstNorm:E2} (norm-wise), {worstElement:E2} (element)");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Should_MatchTheOriginal_TrainingForwardAndEveryGradient(string variant)
    {
        var fx = VsrnFixture.Load(variant);
        var model = fx.Model();
        model.Train();
        var seen = new Dictionary<string, float[]>();
        model.ImageEncoder.Observer = (name, t) => seen[name] = t.ToArray();
        model.CaptionBranch!.Observer = (name, t) => seen[name] = t.ToArray();
        using (TensorScope.Begin())
        {
            var (img, regions) = model.EncodeImagesWithRegions(fx.Images());
            var cap = model.EncodeCaptions(fx.Tokens, fx.Lengths, fx.MaxLength);
            var scores = model.Scores(img, cap, fx.Lengths);
            var hinge = ContrastiveLoss.Compute(scores, fx.Margin, maxViolation: true);
            var nll = model.CaptionLoss(regions, fx.Tokens, fx.Lengths, fx.MaxLength);
            var loss = Ops.Add(hinge, nll);
            foreach (var (name, values) in seen) Check(fx, "train." + name, Tensor.FromArray(values, values.Length));
            Check(fx, "train.gcn_emb", regions);
            Check(fx, "train.img_emb", img);
            Check(fx, "train.cap_emb", cap);
            Check(fx, "train.scores", scores);
            Check(fx, "train.hinge", hinge);
            Check(fx, "train.nll", nll);
            Check(fx, "train.loss", loss);
            Tape.Backward(loss);
        }
        Assert.Equal(["encoder_outputs", "fc_out", "gcn1_out", "gcn2_out", "gcn3_out", "gcn4_out", "img_rnn_h"], seen.Keys.Order());
        CheckGradients(fx, model);
        // BatchNorm running statistics after the one training-mode forward (momentum 0.1, unbiased variance, count + 1).
        int buffers = 0;
        foreach (var (name, t) in model.StateDict())
        {
            if (!fx.Expected.Tensors.ContainsKey("after." + name)) continue;
            Check(fx, "after." + name, t);
            buffers++;
        }
        Assert.Equal(variant == "f30k_precomp" ? 15 : 12, buffers);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Should_MatchTheOriginal_CaptionLogProbabilitiesAtEveryStep(string variant)
    {
        // The training path runs each row only for the steps its loss counts; run every row for all max_len - 1
        // steps here, as the original does, and compare the whole [B, T, V] log-probability tensor.
        var fx = VsrnFixture.Load(variant);
        var model = fx.Model();
        model.Train();
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        var (_, regions) = model.EncodeImagesWithRegions(fx.Images());
        var targets = CaptionTargets.Build(fx.Tokens, fx.Lengths, fx.MaxLength, fx.Config.MaxLen);
        int b = fx.Lengths.Length, t = targets.StepsPerRow;
        var all = Enumerable.Repeat(t, b).ToArray();
        var (logits, _, layout) = model.CaptionBranch!.Logits(regions, targets, all);
        var logp = Ops.LogSoftmax(logits, -1);
        int v = logp.Dim(1);
        var ours = new float[b * t * v];
        for (int s = 0; s < t; s++)
            for (int k = 0; k < b; k++)
                logp.Data.Slice((layout.SlotStart[s] + k) * v, v).CopyTo(ours.AsSpan((k * t + s) * v, v));
        Check(fx, "train.seq_logprobs", Tensor.FromArray(ours, b, t, v));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Should_MatchTheOriginal_InEvaluationMode(string variant)
    {
        var fx = VsrnFixture.Load(variant);
        var model = fx.Model();
        model.Eval();
        var seen = new Dictionary<string, float[]>();
        model.ImageEncoder.Observer = (name, t) => seen[name] = t.ToArray();
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        var (img, regions) = model.EncodeImagesWithRegions(fx.Images());
        Check(fx, "eval.fc_out", Tensor.FromArray(seen["fc_out"], seen["fc_out"].Length));
        Check(fx, "eval.gcn_emb", regions);
        Check(fx, "eval.img_emb", img);
        Check(fx, "eval.cap_emb", model.EncodeCaptions(fx.Tokens, fx.Lengths, fx.MaxLength));
        // The evaluation path of a model handle: each GCN block's convolutions and BatchNorm folded into two products.
        Check(fx, "eval.img_emb", model.FrozenImageEncoder()(fx.Images()));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Should_MatchTheOriginal_AfterTwoTrainingStepsWithItsParameterList(string variant)
    {
        var fx = VsrnFixture.Load(variant);
        var model = fx.Model();
        model.Train();
        float lr = float.Parse(fx.Expected.Metadata["step_lr"], System.Globalization.CultureInfo.InvariantCulture);
        float clip = float.Parse(fx.Expected.Metadata["step_grad_clip"], System.Globalization.CultureInfo.InvariantCulture);
        var objective = new VsrnObjective(model, new TrainingRecipe { LearningRate = lr, GradClip = clip, Margin = fx.Margin, MaxViolation = true });
        // The original's list: every captioning parameter a second time.
        int captioning = model.CaptioningParameters().Count();
        Assert.Equal(model.NamedParameters().Count() + captioning, objective.Optimizers[0].Optimizer.Parameters.Count);
        // W.0.bias (the conv bias before each GCN block's training-mode BatchNorm) has gradient 0 in exact
        // arithmetic, so both sides step it by Adam's normalised rounding noise: about ±lr in a random direction.
        // Those are compared by Adam's bound instead (at steps 1 and 2 one update moves an element by at most
        // lr·1.0015 whatever the gradients), and the BatchNorm's running mean at step 2, which sees that bias
        // through the batch mean (rm2 = 0.9 rm1 + 0.1 (mean of the conv + bias)), is compared after adding
        // 0.1 · (our bias − torch's bias) to torch's. Nothing else depends on it in training mode.
        var initial = model.StateDict().Where(p => p.Name.EndsWith("W.0.bias", StringComparison.Ordinal)).ToDictionary(p => p.Name, p => p.Tensor.ToArray());
        var biasGap = new Dictionary<string, float[]>(); // ours − torch after the previous step
        for (int step = 1; step <= 2; step++)
        {
            var gapNow = new Dictionary<string, float[]>();
            var result = objective.Step(fx.Batch(), new TrainingStep(0, step));
            Check(fx, $"step{step}.hinge", Tensor.Scalar((float)result.Terms["hinge"]));
            Check(fx, $"step{step}.nll", Tensor.Scalar((float)result.Terms["caption"]));
            double worstNorm = 0, worstElement = 0;
            foreach (var (name, t) in model.StateDict())
            {
                var torch = fx.Expected.Get($"step{step}.{name}").ToArray();
                if (initial.TryGetValue(name, out var start))
                {
                    var ours = t.ToArray();
                    for (int i = 0; i < start.Length; i++)
                    {
                        Assert.True(Math.Abs(ours[i] - start[i]) <= step * lr * 1.01f, $"step{step}.{name}[{i}] ours moved {ours[i] - start[i]:G4}, more than Adam's bound");
                        Assert.True(Math.Abs(torch[i] - start[i]) <= step * lr * 1.01f, $"step{step}.{name}[{i}] torch moved {torch[i] - start[i]:G4}, more than Adam's bound");
                    }
                    gapNow[name[..^"W.0.bias".Length]] = ours.Zip(torch, (a, c) => a - c).ToArray();
                    continue;
                }
                if (step == 2 && name.EndsWith("W.1.running_mean", StringComparison.Ordinal))
                {
                    var gap = biasGap[name[..^"W.1.running_mean".Length]];
                    for (int i = 0; i < torch.Length; i++) torch[i] += 0.1f * gap[i];
                }
                var (norm, element) = VsrnFixture.AssertClose(torch, t.Data, $"step{step}.{name}");
                worstNorm = Math.Max(worstNorm, norm);
                worstElement = Math.Max(worstElement, element);
            }
            biasGap = gapNow;
            output.WriteLine($"step {step}: every parameter and buffer, largest relative error {worstNorm:E2} (norm-wise), {worstElement:E2} (element)");
        }
        // Adam stepped the captioning parameters twice per iteration.
        var steps = objective.Optimizers[0].Optimizer.StateTensors().Where(s => s.Name.StartsWith("step.", StringComparison.Ordinal))
            .ToDictionary(s => s.Name["step.".Length..], s => s.Tensor.ToScalar());
        Assert.Equal(4f, steps["caption_model.decoder.out.weight"]);
        Assert.Equal(2f, steps["img_enc.fc.weight"]);
    }

    [Fact]
    public void Should_NotMatchTheOriginalSteps_WhenTheCaptioningParametersAreListedOnce()
    {
        // The option that turns the quirk off must change the result (else the fixture above would not test it).
        var fx = VsrnFixture.Load("coco_precomp");
        var model = new VsrnModel(fx.Config with { CaptionParamsOnce = true }, new Rng(0));
        model.LoadStateDict(fx.Model().StateDict().ToDictionary(p => p.Name, p => p.Tensor));
        model.Train();
        var objective = new VsrnObjective(model, new TrainingRecipe { LearningRate = 0.01f, GradClip = 0.5f, Margin = fx.Margin, MaxViolation = true });
        Assert.Equal(model.NamedParameters().Count(), objective.Optimizers[0].Optimizer.Parameters.Count);
        objective.Step(fx.Batch(), new TrainingStep(0, 1));
        var expected = fx.Expected.Get("step1.caption_model.decoder.out.weight").ToArray();
        var actual = model.StateDict().First(p => p.Name == "caption_model.decoder.out.weight").Tensor.ToArray();
        Assert.Throws<Xunit.Sdk.TrueException>(() => VsrnFixture.AssertClose(expected, actual, "once"));
    }

    [Fact]
    public void Should_MatchTheOriginal_WithItsDropoutMasksReplayed()
    {
        var fx = VsrnFixture.Load("dropout");
        var weights = Safetensors.Read(CrossModal.Tests.TestData.Fixture("vsrn", "coco_precomp.safetensors"));
        var model = fx.Model(weights);
        model.Train();
        var targets = CaptionTargets.Build(fx.Tokens, fx.Lengths, fx.MaxLength, fx.Config.MaxLen);
        var encoderMask = fx.Expected.Get("mask.encoder").ToArray();
        var decoderMasks = fx.Expected.Get("mask.decoder"); // [T, B, W + H]
        int b = fx.Lengths.Length, width = decoderMasks.Dim(2);
        // The masks in the order the model asks for them: the encoder's, then each step's for its active rows.
        var given = new Queue<float[]>();
        given.Enqueue(encoderMask);
        for (int s = 0; s < targets.Steps.Max(); s++)
        {
            int active = targets.Steps.Count(n => n > s);
            given.Enqueue(decoderMasks.Data.Slice(s * b * width, active * width).ToArray());
        }
        model.CaptionBranch!.Dropout.Given = given;
        using (TensorScope.Begin())
        {
            var (img, regions) = model.EncodeImagesWithRegions(fx.Images());
            var cap = model.EncodeCaptions(fx.Tokens, fx.Lengths, fx.MaxLength);
            var hinge = ContrastiveLoss.Compute(model.Scores(img, cap, fx.Lengths), fx.Margin, maxViolation: true);
            var nll = model.CaptionLoss(regions, fx.Tokens, fx.Lengths, fx.MaxLength);
            var loss = Ops.Add(hinge, nll);
            Check(fx, "train.hinge", hinge);
            Check(fx, "train.nll", nll);
            Check(fx, "train.loss", loss);
            Tape.Backward(loss);
        }
        Assert.Empty(given);
        CheckGradients(fx, model);
    }
}
