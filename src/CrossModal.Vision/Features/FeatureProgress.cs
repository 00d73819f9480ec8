namespace CrossModal.Vision.Features;

/// <summary>Progress of a feature extraction: images done (including failed ones) out of the total, and throughput.</summary>
/// <param name="Done">Images processed so far.</param>
/// <param name="Total">Images in the job.</param>
/// <param name="Failed">Images that could not be read so far.</param>
/// <param name="ImagesPerSecond">Average throughput since the start.</param>
public sealed record FeatureProgress(int Done, int Total, int Failed, double ImagesPerSecond);
