namespace CrossModal.Fuzz;

/// <summary>What one input did.</summary>
/// <param name="Kind">"loaded", "refused" (InvalidDataException naming the input) or a failure kind: "exception",
/// "unnamed" (InvalidDataException that does not name the input), "allocation", "hang".</param>
/// <param name="Message">The exception's type and message (with the stack for failures), or empty.</param>
/// <param name="AllocatedBytes">Managed bytes the parser allocated.</param>
/// <param name="Milliseconds">Wall-clock time of the parse (reported, never judged: the machine is shared).</param>
public sealed record FuzzOutcome(string Kind, string Message, long AllocatedBytes, double Milliseconds)
{
    /// <summary>True for a pass (loaded or refused properly).</summary>
    public bool Passed => Kind is "loaded" or "refused";
}
