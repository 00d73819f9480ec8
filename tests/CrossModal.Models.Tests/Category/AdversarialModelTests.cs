using CrossModal.Data;
using CrossModal.Models.Acmr;
using CrossModal.Models.Masln;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tests;

namespace CrossModal.Models.Tests.Category;

/// <summary>
/// MASLN's and the ACMR-style model's layers and losses against finite differences, and the alternating adversarial
/// step against the update Adam's first step must make (lr x sign of the gradient) of each player's own loss.
/// </summary>
public class AdversarialModelTests
{
    private static MaslnConfig Config(bool noDiscriminator = false, bool noClassEmbeddings = false) => new()
    {
        ImgDim = 6, TxtDim = 4, NumClasses = 3, EmbedSize = 5, HiddenSize = 7, ClassDim = 3,
        LambdaCorr = 1f, LambdaDis = 0.5f, LambdaAdv = 0.3f, LambdaRec = 0.7f,
        NoDiscriminator = noDiscriminator, NoClassEmbeddings = noClassEmbeddings,
    };

    private static MaslnModel Model(MaslnConfig config, ulong seed = 7)
    {
        var model = new MaslnFamily().Create(config, new Rng(seed));
        // a non-trivial standardisation, so the tests see it in the encoders' and the reconstruction's inputs
        var rng = new Rng(seed + 1);
        var images = new float[10 * config.ImgDim];
        var texts = new float[10 * config.TxtDim];
        rng.Uniform(images, -2f, 3f);
        rng.Uniform(texts, 0f, 0.5f);
        model.FitInputStandardization(images, texts, 10);
        return model;
    }

    private static LabelledBatch Batch(MaslnConfig config, int size = 4, ulong seed = 11)
    {
        var rng = new Rng(seed);
        var images = Tensor.Zeros(size, config.ImgDim);
        var texts = Tensor.Zeros(size, config.TxtDim);
        var embeddings = Tensor.Zeros(size, config.ClassDim);
        rng.Uniform(images.Data, -2f, 3f);
        rng.Uniform(texts.Data, 0f, 0.5f);
        var labels = Enumerable.Range(0, size).Select(i => i % config.NumClasses).ToArray();
        var table = new float[config.NumClasses * config.ClassDim];
        rng.Uniform(table, -1f, 1f);
        for (int i = 0; i < size; i++) table.AsSpan(labels[i] * config.ClassDim, config.ClassDim).CopyTo(embeddings.Data.Slice(i * config.ClassDim, config.ClassDim));
        return new LabelledBatch(Enumerable.Range(0, size).ToArray(), images, texts, labels, embeddings);
    }

    /// <summary>
    /// Moves every ReLU of <paramref name="module"/> (the "fc1" layers before them) clearly into its active or its
    /// inactive region, alternating by unit: central differences with a step of 1e-2 across a ReLU's kink disagree
    /// with any gradient, so the checks must not straddle one; both branches are still exercised.
    /// </summary>
    private static void PinRelus(CrossModal.Tensors.Nn.Module module)
    {
        foreach (var (name, t) in module.NamedParameters())
            if (name.EndsWith("fc1.bias", StringComparison.Ordinal))
                for (int i = 0; i < t.Length; i++) t.Data[i] = i % 3 == 2 ? -4f : 4f;
    }

    [Fact]
    public void Should_MatchFiniteDifferences_Encoder()
    {
        var encoder = new FeatureEncoder(5, 6, 4, 0f, new Rng(1), new Rng(2));
        PinRelus(encoder);
        var inputs = new[] { GradCheck.Random(new Rng(3), 3, 5) }.Concat(encoder.Parameters()).ToArray();
        GradCheck.Check(t => encoder.Forward(t[0]), inputs);
    }

    [Fact]
    public void Should_MatchFiniteDifferences_DecoderAndDiscriminator()
    {
        var decoder = new FeatureDecoder(5, 6, 4, new Rng(4));
        PinRelus(decoder);
        GradCheck.Check(t => decoder.Forward(t[0]), new[] { GradCheck.Random(new Rng(5), 3, 5) }.Concat(decoder.Parameters()).ToArray());
        var discriminator = new ModalityDiscriminator(6, new Rng(6));
        PinRelus(discriminator);
        GradCheck.Check(t => discriminator.Forward(t[0]), new[] { GradCheck.Random(new Rng(7), 4, 6) }.Concat(discriminator.Parameters()).ToArray());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Should_MatchFiniteDifferences_GeneratorLoss(bool noDiscriminator, bool noClassEmbeddings)
    {
        var config = Config(noDiscriminator, noClassEmbeddings);
        var model = Model(config);
        PinRelus(model);
        var objective = new MaslnObjective(model, new TrainingRecipe { BatchSize = 4 });
        var batch = Batch(config);
        var parameters = model.NamedParameters().Where(p => !p.Name.StartsWith(AcmrModel.DiscriminatorPrefix, StringComparison.Ordinal)).Select(p => p.Tensor).ToArray();
        GradCheck.CheckSampled(_ => objective.GeneratorLoss(batch, new Dictionary<string, double>()), 6, parameters);
    }

    [Fact]
    public void Should_MatchFiniteDifferences_DiscriminatorLoss()
    {
        var config = Config();
        var model = Model(config);
        PinRelus(model);
        var objective = new MaslnObjective(model, new TrainingRecipe { BatchSize = 4 });
        var codes = new[] { GradCheck.Random(new Rng(8), 4, 5), GradCheck.Random(new Rng(9), 4, 5) };
        GradCheck.Check(t => objective.DiscriminatorLoss(t[0], t[1]), codes.Concat(model.Discriminator!.Parameters()).ToArray());
    }

    [Fact]
    public void Should_ComputeTheReconstructionLoss_AsTheMeanOfFourMeanSquaredErrors()
    {
        var config = Config();
        var model = Model(config);
        var objective = new MaslnObjective(model, new TrainingRecipe { BatchSize = 4 });
        var batch = Batch(config);
        using var _ = Tape.NoGrad();
        var ci = model.EncodeImages(batch.Images);
        var ct = model.EncodeTexts(batch.Texts);
        float loss = objective.ReconstructionLoss(batch, ci, ct).ToScalar();
        var xi = model.StandardizeImages(batch.Images).ToArray();
        var xt = model.StandardizeTexts(batch.Texts).ToArray();
        double expected = 0;
        foreach (var codes in new[] { ci, ct })
        {
            var input = Ops.Concat([codes, batch.ClassEmbeddings!], 1);
            expected += Mse(model.ImageDecoder!.Forward(input).ToArray(), xi) + Mse(model.TextDecoder!.Forward(input).ToArray(), xt);
        }
        Assert.Equal(expected / 4, loss, 4);
        // the standardised targets are the (x - mean) / deviation of the fitted buffers, not the raw features
        Assert.NotEqual(batch.Images.Data[0], xi[0]);
    }

    private static double Mse(float[] a, float[] b) => a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Sum() / a.Length;

    [Fact]
    public void Should_NameTwoOptimizers_AndOneWithoutTheDiscriminator()
    {
        var two = new MaslnObjective(Model(Config()), new TrainingRecipe { LearningRate = 1e-3f });
        Assert.Equal(new[] { "generator", "discriminator" }, two.Optimizers.Select(o => o.Name));
        Assert.Equal(new[] { 1e-3f, 1e-3f }, two.Optimizers.Select(o => o.InitialLearningRate));
        var one = new MaslnObjective(Model(Config(noDiscriminator: true)), new TrainingRecipe());
        Assert.Equal(new[] { "generator" }, one.Optimizers.Select(o => o.Name));
        Assert.Null(((MaslnModel)new MaslnFamily().Create(Config(noDiscriminator: true), new Rng(1))).Discriminator);
    }

    [Fact]
    public void Should_StepTheDiscriminatorFirst_ThenTheGeneratorAgainstTheUpdatedDiscriminator()
    {
        var config = Config() with { DisLearningRate = 2e-3f };
        var recipe = new TrainingRecipe { BatchSize = 4, LearningRate = 1e-3f, GradClip = 0f };
        var batch = Batch(config);
        var trained = Model(config);
        var before = trained.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.ToArray());

        // the expected gradients, on an identical model: L_D at the initial codes (no gradient into the encoders) ...
        var reference = Model(config);
        var refObjective = new MaslnObjective(reference, recipe);
        Tensor images, texts;
        using (Tape.NoGrad())
        {
            images = reference.EncodeImages(batch.Images);
            texts = reference.EncodeTexts(batch.Texts);
        }
        reference.ZeroGrad();
        Tape.Backward(refObjective.DiscriminatorLoss(images, texts));
        var discriminatorGrads = reference.NamedParameters().Where(p => p.Name.StartsWith("discriminator.", StringComparison.Ordinal))
            .ToDictionary(p => p.Name, p => p.Tensor.Grad!.ToArray());

        var objective = new MaslnObjective(trained, recipe);
        var result = objective.Step(batch, new TrainingStep(0, 1));
        Assert.True(double.IsFinite(result.Loss));
        Assert.Equal(new[] { "modality", "corr", "dis", "adv", "rec" }.Order(), result.Terms.Keys.Order());

        var after = trained.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.ToArray());
        foreach (var (name, g) in discriminatorGrads)
            AssertAdamFirstStep(name, before[name], after[name], g, config.DisLearningRate);

        // ... then the generator's loss with the discriminator already updated
        foreach (var (name, t) in reference.NamedParameters())
            if (name.StartsWith("discriminator.", StringComparison.Ordinal)) after[name].CopyTo(t.Data);
        reference.ZeroGrad();
        Tape.Backward(refObjective.GeneratorLoss(batch, new Dictionary<string, double>()));
        int checkedTensors = 0;
        foreach (var (name, t) in reference.NamedParameters())
        {
            if (name.StartsWith("discriminator.", StringComparison.Ordinal)) continue;
            AssertAdamFirstStep(name, before[name], after[name], t.Grad!.ToArray(), recipe.LearningRate);
            checkedTensors++;
        }
        Assert.Equal(18, checkedTensors); // img_enc, txt_enc, img_dec, txt_dec (fc1, fc2: weight and bias each) + classifier
        Tape.Clear();
    }

    /// <summary>Adam's first step moves each element by lr x g / (|g| + eps), i.e. lr x sign(g) for clear gradients.</summary>
    private static void AssertAdamFirstStep(string name, float[] before, float[] after, float[] grad, float lr)
    {
        for (int i = 0; i < before.Length; i++)
        {
            double expected = -lr * grad[i] / (Math.Abs(grad[i]) + 1e-8);
            double moved = after[i] - before[i];
            Assert.True(Math.Abs(moved - expected) <= 1e-3 * lr + 1e-7,
                $"{name}[{i}]: moved {moved:G6}, Adam's first step on the gradient {grad[i]:G6} gives {expected:G6}");
        }
    }
}
