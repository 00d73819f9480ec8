namespace CrossModal.Models.CategoryBaselines;

/// <summary>
/// Settings of regularised CCA. The defaults reproduce the Wikipedia reference numbers (mAP 0.244 / 0.195 on
/// SIFT-BoVW 128 + LDA-10): 10 dimensions (all the LDA-10 side has), ridge 1e-4 added to both covariances.
/// </summary>
/// <param name="Dimension">Canonical directions kept (at most the smaller feature width).</param>
/// <param name="Regularization">Ridge added to the diagonal of both auto-covariances (absolute, in the features' units).</param>
/// <param name="MaxDenseDimension">A modality wider than this is first reduced to its leading principal components.</param>
/// <param name="PrincipalComponents">How many components that reduction keeps (capped by samples - 1 and the width).</param>
/// <param name="Seed">Seed of the randomized SVD used by the reduction.</param>
public sealed record CcaOptions(int Dimension = 10, double Regularization = 1e-4, int MaxDenseDimension = 1024, int PrincipalComponents = 512, ulong Seed = 0);
