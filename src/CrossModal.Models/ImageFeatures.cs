namespace CrossModal.Models;

/// <summary>What a family needs of the image features of a precomp split.</summary>
public enum ImageFeatures
{
    /// <summary>One vector per image (N x D) or region sets (N x R x D; the family pools them).</summary>
    VectorOrRegions,

    /// <summary>Region sets only (N x R x D): the family attends over regions.</summary>
    Regions,
}
