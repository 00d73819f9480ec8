namespace CrossModal.Serve.Api;

/// <summary>The server's state.</summary>
/// <param name="Status">"ok".</param>
/// <param name="Model">The model's family (scan, vsepp, ...).</param>
/// <param name="Gallery">Where the gallery came from.</param>
/// <param name="Images">Gallery images.</param>
/// <param name="Regions">Regions per image.</param>
/// <param name="Captions">Gallery captions.</param>
/// <param name="CaptionsReady">Whether the captions are encoded (image search needs them).</param>
/// <param name="ImageSearch">Whether image queries are possible (a CNN was given).</param>
/// <param name="Limits">The request limits.</param>
/// <param name="UptimeSeconds">Seconds since the server started.</param>
public sealed record HealthResponse(string Status, string Model, string Gallery, int Images, int Regions, int Captions, bool CaptionsReady,
    bool ImageSearch, LimitsResponse Limits, double UptimeSeconds);
