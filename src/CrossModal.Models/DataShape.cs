namespace CrossModal.Models;

/// <summary>
/// The sizes a training set dictates to a model: the image feature width and region count (0 for one vector per
/// image), the vocabulary size (token-id text) or the text feature width (feature-vector text), and the number of
/// classes (category-level data).
/// </summary>
public sealed record DataShape(int ImageDim, int Regions = 0, int VocabSize = 0, int TextDim = 0, int Classes = 0);
