using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using CrossModal.Models.Encoders;
using CrossModal.Models.Attention;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Nn;

namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF, the Negative-Aware Attention Framework (Zhang et al., CVPR 2022; CrossmodalGroup/NAAF): SCAN's region
/// encoder ("img_enc": fc.*) and a Bi-GRU word encoder ("txt_enc": embed.weight or, with GloVe, embed.glove.weight,
/// and rnn.*), scored text-to-image by <see cref="NaafAttention"/>. The learned threshold state is held in top-level
/// buffers named as the original's opt entries (thres, thres_safe, mean_pos, stnd_pos, mean_neg, stnd_neg): in
/// training mode <see cref="Scores"/> runs the threshold learning and updates them, as the original's training
/// forward does; evaluation (<see cref="ScoreBlock"/>) scores with thres_safe.
/// </summary>
public sealed class NaafModel : MatchingModel
{
    private readonly TextEncoderGru? _basic;
    private readonly GloveTextEncoder? _glove;

    /// <summary>Creates the model with the original initialisation and a zero threshold state.</summary>
    public NaafModel(NaafConfig config, Rng rng) : base(config)
    {
        NaafConfig = config;
        ImageEncoder = RegisterModule("img_enc", new ImageEncoderPrecomp(config.ImgDim, config.EmbedSize, rng, config.NoImgNorm,
            AttentionStages.Eps, poolRegions: false, weightNorm: config.PrecompEncType == ImageEncoderType.WeightNorm));
        if (config.PrecompEncTextType == TextEncoderType.Glove)
            _glove = RegisterModule("txt_enc", new GloveTextEncoder(config.VocabSize, config.WordDim, config.EmbedSize, config.NumLayers, rng));
        else
            _basic = RegisterModule("txt_enc", new TextEncoderGru(config.VocabSize, config.WordDim, config.EmbedSize, config.NumLayers,
                bidirectional: true, perWord: true, config.NoTxtNorm, AttentionStages.Eps, rng));
        var buffers = ThresholdState.NewBuffers();
        for (int i = 0; i < buffers.Length; i++) RegisterBuffer(ThresholdState.Keys[i], buffers[i]);
        Threshold = new ThresholdState(buffers);
    }

    /// <summary>The settings.</summary>
    public NaafConfig NaafConfig { get; }

    /// <summary>The region encoder.</summary>
    public ImageEncoderPrecomp ImageEncoder { get; }

    /// <summary>The GloVe word encoder (null with the basic one).</summary>
    public GloveTextEncoder? GloveEncoder => _glove;

    /// <summary>The learned threshold state (model buffers: saved and restored with every checkpoint).</summary>
    public ThresholdState Threshold { get; }

    /// <summary>What the threshold learning did in the last training forward pass.</summary>
    public MiningTrace? LastMining { get; private set; }

    /// <summary>Starts the GloVe encoder's table from <paramref name="table"/> (which must match the vocabulary).</summary>
    public void LoadGlove(GloveTable table)
    {
        if (_glove is null) throw new InvalidOperationException("This NAAF model uses the basic text encoder (precomp_enc_text_type basic); a GloVe table needs precomp_enc_text_type GloVe.");
        table.CopyTo(_glove);
    }

    /// <inheritdoc/>
    public override Tensor EncodeImages(Tensor features)
    {
        if (features.Rank != 3) throw new ArgumentException($"NAAF needs region features [B, R, D], got {Tensor.FormatShape(features.ShapeSpan)}.");
        return ImageEncoder.Forward(features);
    }

    /// <inheritdoc/>
    public override Tensor EncodeCaptions(int[] tokens, int[] lengths, int maxLength) =>
        _glove is not null ? _glove.Forward(tokens, lengths, maxLength) : _basic!.Forward(tokens, lengths, maxLength);

    /// <summary>
    /// Training mode: the original training forward (xattn_score), differentiable, with the threshold learning
    /// updating <see cref="Threshold"/> caption by caption. Evaluation mode: the test scorer (thres_safe,
    /// intra-sentence smoothing), without gradients.
    /// </summary>
    public override Tensor Scores(Tensor images, Tensor captions, int[] captionLengths)
    {
        Threshold.Validate();
        if (Training)
        {
            var trace = new MiningTrace();
            var scores = NaafAttention.ScoresWithLearning(images, captions, captionLengths, NaafConfig.LambdaSoftmax, Threshold, NaafConfig.Alpha, trace);
            LastMining = trace;
            return scores;
        }
        var wordStart = AttentionStages.WordStarts("NAAF", images, captions, captionLengths);
        int bi = images.Dim(0), r = images.Dim(1), d = images.Dim(2), bc = captions.Dim(0), t = captions.Dim(1);
        var words = new float[wordStart[bc] * d];
        AttentionStages.PackWords(captions.Data, t, d, wordStart, words);
        var output = Tensor.Empty(bi, bc);
        NaafAttention.ScoreBlock(images.Data, bi, r, words, captionLengths, d, NaafConfig.LambdaSoftmax, Threshold.ThresSafe, output.Data, bc);
        return output;
    }

    /// <inheritdoc/>
    public override void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo)
    {
        Threshold.Validate();
        int n = j1 - j0;
        var lengths = new int[n];
        for (int j = 0; j < n; j++) lengths[j] = captions.Length(j0 + j);
        NaafAttention.ScoreBlock(images.Items(i0, i1 - i0), i1 - i0, images.Length(i0), captions.Items(j0, n), lengths, images.Dim,
            NaafConfig.LambdaSoftmax, Threshold.ThresSafe, output, ldo);
    }

    /// <summary>
    /// One pair's explanation from encoded regions and a caption. Row w is word w's attention of NAAF's positive
    /// branch over the regions: p_wr ∝ exp(λ (s_wr − θ)) over the regions whose similarity s_wr exceeds the test
    /// threshold θ = thres_safe, zero elsewhere (a word with no region above θ has an all-zero row: it contributes
    /// through the negative branch only). The score is the test scorer's.
    /// </summary>
    public override ScoreExplanation? ExplainEncoded(ReadOnlySpan<float> image, int rows, int[] tokens)
    {
        int d = EmbedSize, t = tokens.Length;
        if (rows < 1 || image.Length != rows * d) throw new ArgumentException($"{image.Length} floats are not {rows} encoded regions of {d}.");
        Threshold.Validate();
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        var words = EncodeCaptions(tokens, [t], t).Data[..(t * d)];
        float theta = Threshold.ThresSafe, lambda = NaafConfig.LambdaSoftmax;
        var weights = new float[t * rows];
        for (int w = 0; w < t; w++)
        {
            var row = weights.AsSpan(w * rows, rows);
            var word = words.Slice(w * d, d);
            float max = 0f;
            for (int r = 0; r < rows; r++)
            {
                row[r] = TensorPrimitives.Dot(word, image.Slice(r * d, d)) - theta;
                max = MathF.Max(max, row[r]);
            }
            float sum = 0f;
            for (int r = 0; r < rows; r++)
            {
                row[r] = row[r] > 0f ? MathF.Exp(lambda * (row[r] - max)) : 0f;
                sum += row[r];
            }
            if (sum > 0f) TensorPrimitives.Divide(row, sum, row);
        }
        var score = new float[1];
        NaafAttention.ScoreBlock(image, 1, rows, words, [t], d, lambda, theta, score, 1);
        string meaning = $"NAAF: row w is word w's attention over the regions in the positive branch, restricted to the regions whose similarity " +
            $"exceeds the learned threshold thres_safe = {theta:G4} (each row sums to 1; an all-zero row: no region passes, the word counts as " +
            "mismatch evidence). The score is the mean over the words of that attended match, a relevance-weighted similarity and the negative " +
            "evidence (how far the word's best region falls below the threshold).";
        return new ScoreExplanation(ExplanationKind.WordRegionAttention, score[0], t, rows, weights, null, meaning);
    }

    /// <inheritdoc/>
    protected override void OnStateLoaded() => Threshold.Validate();
}
