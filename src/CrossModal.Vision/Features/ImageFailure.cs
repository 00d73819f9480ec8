namespace CrossModal.Vision.Features;

/// <summary>An image that could not be read: its position in the job, its path and the one-line reason.</summary>
/// <param name="Index">Position in the input list.</param>
/// <param name="Path">The file.</param>
/// <param name="Message">Why it failed (the decoder's message, which names the file).</param>
public sealed record ImageFailure(int Index, string Path, string Message);
