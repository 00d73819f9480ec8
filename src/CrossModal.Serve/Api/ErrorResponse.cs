namespace CrossModal.Serve.Api;

/// <summary>Every error the API returns: the status code again and one message.</summary>
/// <param name="Status">The HTTP status code.</param>
/// <param name="Error">What was wrong, for people.</param>
public sealed record ErrorResponse(int Status, string Error);
