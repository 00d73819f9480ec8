namespace CrossModal.Cli;

/// <summary>A failure to report to the user as one line (exit code 1).</summary>
public sealed class CliException(string message) : Exception(message);
