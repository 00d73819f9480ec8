namespace CrossModal.Serve.Api;

/// <summary>The limits a client must respect (from <see cref="ServeOptions"/>).</summary>
/// <param name="MaxQueryLength">Characters per text query.</param>
/// <param name="MaxK">Largest k.</param>
/// <param name="MaxUploadBytes">Largest image upload.</param>
/// <param name="MaxPixels">Largest image in pixels.</param>
/// <param name="TimeoutSeconds">Per-request computation limit.</param>
public sealed record LimitsResponse(int MaxQueryLength, int MaxK, long MaxUploadBytes, long MaxPixels, double TimeoutSeconds);
