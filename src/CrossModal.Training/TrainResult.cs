namespace CrossModal.Training;

/// <summary>The outcome of <see cref="Trainer.Run"/>.</summary>
/// <param name="Interrupted">True when cancellation stopped the run (a checkpoint was saved to resume from).</param>
/// <param name="Epochs">Every completed epoch of the run, including those before a resume.</param>
/// <param name="BestRsum">Best validation rsum.</param>
/// <param name="BestEpoch">Its epoch (1-based).</param>
/// <param name="CheckpointPath">The latest checkpoint.</param>
/// <param name="BestPath">The best model's checkpoint.</param>
public sealed record TrainResult(bool Interrupted, IReadOnlyList<EpochRecord> Epochs, double BestRsum, int BestEpoch, string CheckpointPath, string BestPath);
