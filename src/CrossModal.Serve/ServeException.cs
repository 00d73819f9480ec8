namespace CrossModal.Serve;

/// <summary>A request that cannot be served: the HTTP status and a message for the client (sent as JSON).</summary>
public sealed class ServeException(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status code to answer with.</summary>
    public int Status { get; } = status;
}
