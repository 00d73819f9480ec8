namespace CrossModal.Benchmarks;

/// <summary>
/// A suite's reference or data is not on this machine. Program prints the message as one line on stderr, reports
/// the suite as skipped and runs the remaining suites; the message says what to install or set.
/// </summary>
public sealed class MissingPrerequisiteException(string message) : Exception(message);
