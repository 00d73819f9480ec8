namespace CrossModal.Models.CategoryBaselines;

/// <summary>
/// A fitted category-level model that maps image and text feature vectors into one common space where retrieval
/// ranks by cosine similarity (CCA's correlated space, semantic matching's class-posterior space; MASLN's and ACMR's
/// code layers fit the same shape).
/// </summary>
public interface ICommonSpaceModel
{
    /// <summary>Short name for tables and logs ("cca", "sm").</summary>
    string Name { get; }

    /// <summary>Width of the common space.</summary>
    int Dimension { get; }

    /// <summary>Width of the image features the model was fitted on.</summary>
    int ImageFeatureDimension { get; }

    /// <summary>Width of the text features the model was fitted on.</summary>
    int TextFeatureDimension { get; }

    /// <summary>Codes of <paramref name="rows"/> image feature rows (row major): rows x <see cref="Dimension"/>.</summary>
    float[] ProjectImages(ReadOnlySpan<float> features, int rows);

    /// <summary>Codes of <paramref name="rows"/> text feature rows (row major): rows x <see cref="Dimension"/>.</summary>
    float[] ProjectTexts(ReadOnlySpan<float> features, int rows);
}
