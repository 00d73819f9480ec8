using CrossModal.Tensors;

namespace CrossModal.Models.CategoryBaselines;

/// <summary>
/// The chance level of a protocol: every item gets a random Gaussian code, independent of its features, so the
/// ranking is random. Worth a row in every table because chance mAP depends on the class balance and on how many
/// classes are ranked (about 0.12 on the 10 Wikipedia classes, about 0.23 on 5 unseen ones). Deterministic: the
/// codes come from a fixed seed per modality and call.
/// </summary>
public sealed class ChanceModel(int imageFeatureDimension, int textFeatureDimension, ulong seed = 0, int dimension = 16) : ICommonSpaceModel
{
    /// <inheritdoc/>
    public string Name => "chance";

    /// <inheritdoc/>
    public int Dimension { get; } = dimension;

    /// <inheritdoc/>
    public int ImageFeatureDimension { get; } = imageFeatureDimension;

    /// <inheritdoc/>
    public int TextFeatureDimension { get; } = textFeatureDimension;

    /// <inheritdoc/>
    public float[] ProjectImages(ReadOnlySpan<float> features, int rows) => Codes(features.Length, rows, ImageFeatureDimension, seed);

    /// <inheritdoc/>
    public float[] ProjectTexts(ReadOnlySpan<float> features, int rows) => Codes(features.Length, rows, TextFeatureDimension, seed + 1);

    private float[] Codes(int length, int rows, int width, ulong s)
    {
        if (length != (long)rows * width) throw new ArgumentException($"Expected {rows} x {width} feature values, got {length}.");
        var codes = new float[rows * Dimension];
        new Rng(s).Normal(codes);
        return codes;
    }
}
