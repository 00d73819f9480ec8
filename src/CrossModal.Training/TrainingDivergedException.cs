namespace CrossModal.Training;

/// <summary>The loss became NaN or infinite: training stops instead of silently diverging.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
