using CrossModal.Models.CategoryBaselines;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Models;

/// <summary>
/// A category-level model (ACMR-style, MASLN): encoders of image and text feature vectors into codes of one common
/// space, where retrieval ranks by cosine similarity. Every input is first standardised per feature with the
/// training pairs' mean and deviation (buffers <c>img_mean</c>, <c>img_scale</c>, <c>txt_mean</c>,
/// <c>txt_scale</c>, set once by <see cref="FitInputStandardization"/> before training and saved with the model), so
/// shallow features of very different scales (bag-of-words histograms summing to 1, LDA posteriors, unit TF-IDF rows)
/// reach the first layer on a common scale. As an <see cref="ICommonSpaceModel"/>, a trained model plugs into the
/// category protocols like the CCA and semantic-matching baselines.
/// </summary>
public abstract class CategoryModel : RetrievalModel, ICommonSpaceModel
{
    /// <summary>Rows encoded per chunk by the projections (bounds the temporary memory of a large split).</summary>
    private const int ProjectionChunk = 1024;

    private readonly Tensor _imgMean, _imgScale, _txtMean, _txtScale;

    /// <summary>Creates the model for <paramref name="config"/>; the standardisation starts as the identity.</summary>
    protected CategoryModel(CategoryConfig config) : base(config)
    {
        EmbedSize = config.EmbedSize;
        ImageFeatureDimension = config.ImgDim;
        TextFeatureDimension = config.TxtDim;
        _imgMean = RegisterBuffer("img_mean", Tensor.Zeros(config.ImgDim));
        _imgScale = RegisterBuffer("img_scale", Tensor.Full(1f, config.ImgDim));
        _txtMean = RegisterBuffer("txt_mean", Tensor.Zeros(config.TxtDim));
        _txtScale = RegisterBuffer("txt_scale", Tensor.Full(1f, config.TxtDim));
    }

    /// <summary>Width of the codes.</summary>
    public int EmbedSize { get; }

    /// <inheritdoc/>
    public string Name => Family.Name;

    /// <inheritdoc/>
    public int Dimension => EmbedSize;

    /// <inheritdoc/>
    public int ImageFeatureDimension { get; }

    /// <inheritdoc/>
    public int TextFeatureDimension { get; }

    /// <summary>Codes [B, E] of raw image features [B, Di] (standardised here; differentiable in the model's parameters).</summary>
    public Tensor EncodeImages(Tensor features) => EncodeStandardizedImages(StandardizeImages(features));

    /// <summary>Codes [B, E] of raw text features [B, Dt].</summary>
    public Tensor EncodeTexts(Tensor features) => EncodeStandardizedTexts(StandardizeTexts(features));

    /// <summary>The image encoder on standardised features.</summary>
    protected abstract Tensor EncodeStandardizedImages(Tensor standardized);

    /// <summary>The text encoder on standardised features.</summary>
    protected abstract Tensor EncodeStandardizedTexts(Tensor standardized);

    /// <summary>(features - img_mean) * img_scale, a new tensor outside the autograd tape (features are data).</summary>
    public Tensor StandardizeImages(Tensor features) => Standardize(features, _imgMean, _imgScale, "image");

    /// <summary>(features - txt_mean) * txt_scale.</summary>
    public Tensor StandardizeTexts(Tensor features) => Standardize(features, _txtMean, _txtScale, "text");

    /// <summary>
    /// Sets the standardisation from the training pairs (rows of <paramref name="images"/> and <paramref name="texts"/>):
    /// per feature the mean and 1 / the population standard deviation, computed in double; a feature whose deviation is
    /// below <paramref name="minDeviation"/> times the largest deviation of its modality (constant columns, terms of a
    /// single document) gets that floor instead, so it cannot blow up to huge standardised values.
    /// </summary>
    public void FitInputStandardization(ReadOnlySpan<float> images, ReadOnlySpan<float> texts, int rows, double minDeviation = 1e-2)
    {
        if (rows < 2) throw new ArgumentException($"Standardising the inputs needs at least 2 training pairs, got {rows}.");
        Fit(images, rows, ImageFeatureDimension, _imgMean, _imgScale, minDeviation, "image");
        Fit(texts, rows, TextFeatureDimension, _txtMean, _txtScale, minDeviation, "text");
    }

    /// <inheritdoc/>
    /// <remarks>The model must be in evaluation mode (no dropout): projections are what retrieval uses.</remarks>
    public float[] ProjectImages(ReadOnlySpan<float> features, int rows) => Project(features, rows, ImageFeatureDimension, images: true);

    /// <inheritdoc/>
    public float[] ProjectTexts(ReadOnlySpan<float> features, int rows) => Project(features, rows, TextFeatureDimension, images: false);

    private float[] Project(ReadOnlySpan<float> features, int rows, int dim, bool images)
    {
        if (Training) throw new InvalidOperationException($"{Name}: switch the model to evaluation mode (Eval()) before projecting features for retrieval.");
        if (rows < 0 || features.Length != (long)rows * dim)
            throw new ArgumentException($"{Name}: {features.Length} {(images ? "image" : "text")} feature values for {rows} rows of width {dim}.");
        var codes = new float[(long)rows * EmbedSize];
        using var noGrad = Tape.NoGrad();
        for (int start = 0; start < rows; start += ProjectionChunk)
        {
            int n = Math.Min(ProjectionChunk, rows - start);
            using var scope = TensorScope.Begin();
            var x = Tensor.FromSpan(features.Slice(start * dim, n * dim), n, dim);
            var c = images ? EncodeImages(x) : EncodeTexts(x);
            c.Data.CopyTo(codes.AsSpan(start * EmbedSize, n * EmbedSize));
        }
        return codes;
    }

    private static Tensor Standardize(Tensor features, Tensor mean, Tensor scale, string what)
    {
        int d = mean.Length;
        if (features.Rank != 2 || features.Dim(1) != d)
            throw new ArgumentException($"Expected {what} features [rows, {d}], got {Tensor.FormatShape(features.ShapeSpan)}.");
        int n = features.Dim(0);
        var y = Tensor.Empty(n, d);
        var x = features.Data;
        var yd = y.Data;
        var m = mean.Data;
        var s = scale.Data;
        for (int r = 0; r < n; r++)
            for (int j = 0; j < d; j++) yd[r * d + j] = (x[r * d + j] - m[j]) * s[j];
        return y;
    }

    private static void Fit(ReadOnlySpan<float> x, int rows, int d, Tensor mean, Tensor scale, double minDeviation, string what)
    {
        if (x.Length != (long)rows * d) throw new ArgumentException($"{x.Length} {what} feature values for {rows} rows of width {d}.");
        var sum = new double[d];
        var sq = new double[d];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++) sum[j] += x[r * d + j];
        for (int j = 0; j < d; j++) sum[j] /= rows;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++)
            {
                double v = x[r * d + j] - sum[j];
                sq[j] += v * v;
            }
        var std = sq.Select(v => Math.Sqrt(v / rows)).ToArray();
        double floor = minDeviation * std.Max();
        if (floor <= 0) floor = 1;
        for (int j = 0; j < d; j++)
        {
            mean.Data[j] = (float)sum[j];
            scale.Data[j] = (float)(1 / Math.Max(std[j], floor));
        }
    }
}
