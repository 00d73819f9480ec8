namespace CrossModal.Serve.Api;

/// <summary>The answer to an image query: the best captions, best first.</summary>
/// <param name="Width">Width of the uploaded image in pixels.</param>
/// <param name="Height">Its height.</param>
/// <param name="Results">The top captions.</param>
/// <param name="PairScores">Image-caption pairs the model scored.</param>
/// <param name="ElapsedMs">Server time spent on the query (decoding, CNN, encoding, scoring).</param>
public sealed record ImageSearchResponse(int Width, int Height, IReadOnlyList<CaptionHit> Results, long PairScores, double ElapsedMs);
