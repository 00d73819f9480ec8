namespace CrossModal.Vision.Features;

/// <summary>The outcome of a feature extraction.</summary>
/// <param name="RowShape">Shape of one image's features: [regions, channels] for grid pooling, [channels] for global.</param>
/// <param name="Succeeded">Images whose features were delivered.</param>
/// <param name="Failures">Images skipped because they could not be read, in input order.</param>
/// <param name="Seconds">Wall-clock time.</param>
public sealed record FeatureSummary(int[] RowShape, int Succeeded, IReadOnlyList<ImageFailure> Failures, double Seconds);
