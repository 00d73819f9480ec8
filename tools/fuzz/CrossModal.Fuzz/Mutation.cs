namespace CrossModal.Fuzz;

/// <summary>A mutation of one file's bytes: the new bytes and a short description for the crash report.</summary>
/// <param name="Bytes">The mutated content.</param>
/// <param name="How">What was done, e.g. "flip2@17+cut@900".</param>
public readonly record struct Mutation(byte[] Bytes, string How);
