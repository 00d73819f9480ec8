using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Distributed.Autograd;
using CrossModal.Distributed.InProcess;
using CrossModal.Models;
using CrossModal.Models.Imram;
using CrossModal.Models.Naaf;
using CrossModal.Models.Objectives;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Models.Vsrn;
using CrossModal.Tensors;
using CrossModal.Tensors.Nn;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Training.Tests;

/// <summary>
/// One data-parallel training step (ranks as threads) against one process on the same global batch of the f8k data:
/// the loss and every parameter's all-reduced gradient agree within the summation-order bound of
/// <see cref="SummationOrder"/>, for VSE++, SCAN in both directions, the replicated-score variant, NAAF and IMRAM
/// (full_IMRAM, K = 3: its memory gates' parameters are gradients of the sharded score rows too) and VSRN (its
/// BatchNorm layers synchronised over the ranks, its caption branch's dropout masks drawn per global batch, its caption
/// NLL over the global batch size; coco-style with the Rs_GCN BatchNorms, f30k-style with the image BatchNorm too): the
/// BatchNorm running statistics and the model's random state after the step agree as well; a negative control (the
/// captions' gradient not reduce-scattered) lands far outside it.
/// </summary>
public class DataParallelStepTests
{
    private const int BatchSize = 64;

    private sealed record StepOutcome(double Loss, Dictionary<string, float[]> Gradients, Batch Batch, Dictionary<string, float[]> Buffers, ulong[] Noise, int StartedEarly);

    private static ModelConfig Config(string kind, int vocab) => kind switch
    {
        "vsepp" => new VseConfig { ImgDim = 512, EmbedSize = 64, WordDim = 32, VocabSize = vocab },
        "naaf" => new NaafConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = vocab },
        "imram" => new ImramConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = vocab, IterationStep = 3 },
        "vsrn" => new VsrnConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = vocab, DimHidden = 16, DimWord = 16 },
        "vsrn-hinge" => new VsrnConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = vocab, DimHidden = 16, DimWord = 16, CaptionWeight = 0f },
        "vsrn-f30k" => new VsrnConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = vocab, DimHidden = 16, DimWord = 16, DataName = VsrnConfig.Flickr30KDataName },
        "scan-i2t" => new ScanConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = vocab, CrossAttn = AttentionDirection.ImageToText, AggFunc = Aggregation.Mean },
        _ => new ScanConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = vocab },
    };

    /// <summary>
    /// One step on the first batch of a seeded epoch; the gradients as the optimizer would see them (after the
    /// all-reduce, overlapped with the backward when <paramref name="overlap"/>, in buckets of <paramref name="bucketBytes"/>).
    /// </summary>
    private static StepOutcome Step(string kind, PrecompDataset data, ICommunicator ranks, Func<MatchingModel, TrainingRecipe, HingeObjective>? objective = null,
        bool overlap = false, long bucketBytes = GradientReducer.DefaultBucketBytes)
    {
        var config = Config(kind, data.Vocabulary.Count);
        var model = (MatchingModel)config.Family.Create(config, new Rng(5));
        model.Noise.State = new Rng(11).State;
        // VSRN's Rs_GCN BatchNorms start at weight 0 (each block the identity), where the batch statistics reach
        // neither the output nor the input's gradient: give every BatchNorm weights that let them matter.
        var init = new Rng(13);
        foreach (var bn in model.Modules().OfType<BatchNorm1d>())
            for (int i = 0; i < bn.NumFeatures; i++)
            {
                bn.Weight.Data[i] = 0.5f + init.NextFloat();
                bn.Bias.Data[i] = init.NextFloat() - 0.5f;
            }
        var recipe = new TrainingRecipe { BatchSize = BatchSize, MaxViolation = true };
        var obj = objective?.Invoke(model, recipe) ?? (kind == "scan-replicated" ? new ReplicatedScores(model, recipe) : model.Family.CreateObjective(model, recipe));
        var batch = new BatchLoader(data, BatchSize, shuffle: true, new Rng(9)).Epoch(0, ranks.Rank, ranks.Size).First();
        var reducer = new GradientReducer(model.Parameters(), bucketBytes);
        var gradients = new Dictionary<string, float[]>();
        var result = obj.Step(batch, new TrainingStep(0, 1, _ =>
        {
            reducer.AllReduce(ranks);
            foreach (var (name, t) in model.NamedParameters())
                if (t.Grad is { } g) gradients[name] = g.ToArray();
        }, ranks.Size > 1 ? ranks : null, overlap ? _ => reducer.Overlap(ranks) : null));
        var parameters = model.NamedParameters().Select(p => p.Name).ToHashSet();
        var buffers = model.StateDict().Where(e => !parameters.Contains(e.Name)).ToDictionary(e => e.Name, e => e.Tensor.ToArray());
        return new StepOutcome(result.Loss, gradients, batch, buffers, model.Noise.State, reducer.StartedEarly);
    }

    /// <summary>
    /// For a parameter whose gradient is zero in exact arithmetic, the parameter that gives its scale: a VSRN Rs_GCN
    /// block's W.0 bias feeds a BatchNorm in training mode, which subtracts the batch mean, so the bias's gradient
    /// (Σ over the rows of the BatchNorm input's gradient) is 0 and both sides hold only rounding noise. Relative to
    /// itself that noise is O(1); it is measured against the norm of the same convolution's weight gradient.
    /// </summary>
    private static string? ZeroInExactArithmetic(string name) =>
        name.EndsWith(".W.0.bias", StringComparison.Ordinal) ? name[..^"bias".Length] + "weight" : null;

    private static double Norm(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));

    private static PrecompDataset Open(string kind) => PrecompDataset.Open(TestData.Path(kind == "vsepp" ? "f8k-1k-precomp-global" : "f8k-1k-precomp"), "train",
        Vocabulary.Load(TestData.Path("vocab", "f8k_precomp_vocab.json")), cancellationToken: TestContext.Current.CancellationToken);

    private static StepOutcome[] OnRanks(int n, Func<ICommunicator, StepOutcome> step)
    {
        var outcomes = new StepOutcome[n];
        InProcessWorld.RunAll(n, c => outcomes[c.Rank] = step(c));
        return outcomes;
    }

    [Theory]
    [InlineData("vsepp", 2)]
    [InlineData("vsepp", 3)]
    [InlineData("scan-t2i", 2)]
    [InlineData("scan-t2i", 3)]
    [InlineData("scan-i2t", 2)]
    [InlineData("scan-replicated", 2)]
    [InlineData("naaf", 2)]
    [InlineData("imram", 2)]
    [InlineData("vsrn", 2)]
    [InlineData("vsrn", 3)]
    [InlineData("vsrn-f30k", 2)]
    public void Should_GiveTheOneProcessLossAndGradients_OfTheGlobalBatch(string kind, int n)
    {
        using var data = Open(kind);
        var one = Step(kind, data, new SingleProcessCommunicator());
        var ranks = OnRanks(n, c => Step(kind, data, c));
        double tolerance = SummationOrder.Gradient(SummationOrder.Terms(BatchSize, one.Batch.MaxLength, data.Regions));
        foreach (var r in ranks)
        {
            Assert.True(Math.Abs(r.Loss - one.Loss) <= tolerance * one.Loss, $"loss {r.Loss:R} vs one process {one.Loss:R}");
            foreach (var (name, g) in one.Gradients)
            {
                double d = ZeroInExactArithmetic(name) is { } weight
                    ? SummationOrder.Distance(r.Gradients[name], g) / Norm(one.Gradients[weight])
                    : SummationOrder.RelativeDifference(r.Gradients[name], g);
                Assert.True(d <= tolerance, $"{kind} x{n}: {name} differs by {d:E2} (relative), more than {tolerance:E2}");
                // Every rank holds the same bits: the optimizer steps keep one model.
                Assert.Equal(ranks[0].Gradients[name], r.Gradients[name]);
            }
            // BatchNorm running statistics (the mean and variance of the global batch) and the dropout generator's state.
            foreach (var (name, b) in one.Buffers)
            {
                double d = SummationOrder.RelativeDifference(r.Buffers[name], b);
                Assert.True(d <= tolerance, $"{kind} x{n}: buffer {name} differs by {d:E2} (relative), more than {tolerance:E2}");
                Assert.Equal(ranks[0].Buffers[name], r.Buffers[name]);
            }
            Assert.Equal(one.Noise, r.Noise);
        }
    }

    /// <summary>
    /// The all-reduce overlapped with the backward (buckets of 4 KB, so that these small models have several): the
    /// buckets of modules that mark their forward (the text encoders; VSRN's GCN blocks, image GRU, BatchNorm and
    /// caption branch) start during the backward, and every gradient is bit-identical to the all-reduce after the
    /// backward. Ranks as threads complete a started all-reduce at once, so a bucket started before its gradients
    /// were final would have summed incomplete ones.
    /// </summary>
    [Theory]
    [InlineData("vsepp", 2)]
    [InlineData("scan-t2i", 2)]
    [InlineData("naaf", 2)]
    [InlineData("imram", 2)]
    [InlineData("vsrn", 3)]
    [InlineData("vsrn-f30k", 2)]
    public void Should_GiveTheSameGradients_WhenTheAllReduceOverlapsTheBackward(string kind, int n)
    {
        using var data = Open(kind);
        var atEnd = OnRanks(n, c => Step(kind, data, c, bucketBytes: 4096));
        var overlapped = OnRanks(n, c => Step(kind, data, c, overlap: true, bucketBytes: 4096));
        for (int r = 0; r < n; r++)
        {
            Assert.Equal(0, atEnd[r].StartedEarly);
            Assert.True(overlapped[r].StartedEarly > 0, $"{kind}: no bucket started during the backward");
            Assert.Equal(atEnd[r].Loss, overlapped[r].Loss);
            Assert.Equal(atEnd[r].Gradients.Keys.Order(), overlapped[r].Gradients.Keys.Order());
            foreach (var (name, g) in atEnd[r].Gradients) Assert.True(g.AsSpan().SequenceEqual(overlapped[r].Gradients[name]), $"{kind}: {name} differs");
        }
    }

    [Fact]
    public void Should_DifferFarBeyondTheTolerance_WhenTheCaptionsGradientIsNotReduceScattered()
    {
        // The negative control: each rank keeps only the gradient its own images give its captions. The text
        // encoder's gradient then misses the other ranks' part, far more than any summation order could explain.
        AssertFarBeyondTheTolerance("scan-t2i", (m, r) => new OwnCaptionGradientOnly(m, r), "txt_enc.rnn.weight_ih_l0", "the wrong gather");
    }

    [Fact]
    public void Should_DifferFarBeyondTheTolerance_WhenVsrnsBatchNormIsNotSynchronised()
    {
        // The negative control of synchronised BatchNorm: each rank normalises its own rows with its own statistics.
        AssertFarBeyondTheTolerance("vsrn-hinge", (m, r) => new LocalBatchNorm(m, r), "img_enc.fc.weight", "unsynchronised BatchNorm");
    }

    /// <summary>
    /// A negative control: <paramref name="wrong"/>'s step on 2 ranks gives <paramref name="parameter"/> a gradient
    /// more than 100 times the summation-order tolerance away from one process's.
    /// </summary>
    private static void AssertFarBeyondTheTolerance(string kind, Func<MatchingModel, TrainingRecipe, HingeObjective> wrong, string parameter, string what)
    {
        using var data = Open(kind);
        var one = Step(kind, data, new SingleProcessCommunicator());
        var ranks = OnRanks(2, c => Step(kind, data, c, wrong));
        double tolerance = SummationOrder.Gradient(SummationOrder.Terms(BatchSize, one.Batch.MaxLength, data.Regions));
        double d = SummationOrder.RelativeDifference(ranks[0].Gradients[parameter], one.Gradients[parameter]);
        Assert.True(d > 100 * tolerance, $"{what} differs by only {d:E2}");
    }

    [Fact]
    public void Should_RefuseAScoreMatrixOfOneRanksRows()
    {
        using var data = Open("vsepp");
        var errors = InProcessWorld.Run(2, c => Step("vsepp", data, c, (m, r) => new LocalScores(m, r)));
        var e = Assert.IsType<InvalidOperationException>(errors[0]);
        Assert.Contains("score through MatchingLoss", e.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Should_DealEveryRankItsShareOfTheOneProcessBatch(int n)
    {
        // The data order does not depend on the ranks: rank r holds rows r, r + n, ... of the batch one process trains on.
        using var data = Open("vsepp");
        var single = new BatchLoader(data, 50, true, new Rng(3)).Epoch(0).Take(4).ToList();
        for (int r = 0; r < n; r++)
        {
            var shares = new BatchLoader(data, 50, true, new Rng(3)).Epoch(0, r, n).Take(4).ToList();
            for (int b = 0; b < 4; b++)
            {
                var rows = shares[b].Shard!.Rows(r);
                Assert.Equal(rows.Select(j => single[b].CaptionIndices[j]), shares[b].CaptionIndices);
                Assert.Equal(single[b].Lengths, shares[b].Shard!.GlobalLengths);
                Assert.Equal(rows.SelectMany(j => single[b].Images.Data.Slice(j * data.FeatureDim, data.FeatureDim).ToArray()), shares[b].Images.ToArray());
            }
        }
    }

    /// <summary>Scores the whole matrix on every rank from gathered images and captions (what NAAF needs).</summary>
    private sealed class ReplicatedScores(MatchingModel model, TrainingRecipe recipe) : HingeObjective(model, recipe)
    {
        protected override bool ScoresShardedByImage => false;
    }

    /// <summary>A wrong data-parallel loss: the captions are gathered as if every rank used them identically.</summary>
    private sealed class OwnCaptionGradientOnly(MatchingModel model, TrainingRecipe recipe) : HingeObjective(model, recipe)
    {
        protected override Tensor Loss(Batch batch, TrainingStep step, IDictionary<string, double> terms)
        {
            var shard = batch.Shard!;
            var rows = Enumerable.Range(0, shard.Ranks).Select(shard.Rows).ToArray();
            var images = Model.EncodeImages(batch.Images);
            var captions = Model.EncodeCaptions(batch.Tokens, batch.Lengths, batch.MaxLength);
            var all = DistributedOps.AllGatherRows(step.Ranks!, captions, new RowLayout(rows, shard.GlobalSize, shard.GlobalLengths), GatheredUse.Replicated);
            var mine = Model.Scores(images, all, shard.GlobalLengths);
            return HingeLoss(DistributedOps.AllGatherRows(step.Ranks!, mine, new RowLayout(rows, shard.GlobalSize), GatheredUse.Replicated), step);
        }
    }

    /// <summary>VSRN's hinge loss with each rank's BatchNorm layers normalising its own rows only.</summary>
    private sealed class LocalBatchNorm(MatchingModel model, TrainingRecipe recipe) : HingeObjective(model, recipe)
    {
        protected override Tensor Loss(Batch batch, TrainingStep step, IDictionary<string, double> terms)
        {
            foreach (var bn in Model.Modules().OfType<BatchNorm1d>()) bn.CrossBatch = null;
            return MatchingLoss(Model.EncodeImages(batch.Images), Model.EncodeCaptions(batch.Tokens, batch.Lengths, batch.MaxLength), batch, step);
        }
    }

    /// <summary>A family that forgot data-parallel training: it scores its own rows only.</summary>
    private sealed class LocalScores(MatchingModel model, TrainingRecipe recipe) : HingeObjective(model, recipe)
    {
        protected override Tensor Loss(Batch batch, TrainingStep step, IDictionary<string, double> terms) =>
            HingeLoss(Model.Scores(Model.EncodeImages(batch.Images), Model.EncodeCaptions(batch.Tokens, batch.Lengths, batch.MaxLength), batch.Lengths), step);
    }
}
