namespace CrossModal.Serve;

/// <summary>The server's limits and defaults. Every limit is checked before the work it protects.</summary>
public sealed record ServeOptions
{
    /// <summary>Largest request body in bytes (Kestrel refuses larger bodies with 413).</summary>
    public long MaxRequestBodyBytes { get; init; } = 12 << 20;

    /// <summary>Largest uploaded image file in bytes.</summary>
    public long MaxUploadBytes { get; init; } = 8 << 20;

    /// <summary>Largest uploaded image in pixels (width x height, read from the header before decoding).</summary>
    public long MaxPixels { get; init; } = 24_000_000;

    /// <summary>Longest text query, in characters.</summary>
    public int MaxQueryLength { get; init; } = 500;

    /// <summary>Largest k a request may ask for.</summary>
    public int MaxK { get; init; } = 100;

    /// <summary>k when the request names none.</summary>
    public int DefaultK { get; init; } = 20;

    /// <summary>Candidates the first stage of two-stage search keeps for re-scoring (ALBEF's 128 on Flickr30K).</summary>
    public int PrerankK { get; init; } = 128;

    /// <summary>How long one request may compute before it is abandoned with 503.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The clock request deadlines run on (tests pass one whose deadlines have always passed).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// How many image queries may run the CNN at once (each holds a network's activations, tens of MB); others wait
    /// for a slot until their timeout. Text queries are not limited.
    /// </summary>
    public int MaxConcurrentImageQueries { get; init; } = 2;
}
