namespace CrossModal.Training;

/// <summary>The outcome of <see cref="Trainer.Run"/>.</summary>
/// <param name="Interrupted">True when cancellation stopped the run (a checkpoint was saved to resume from).</param>
/// <param name="Epochs">Every validation of the run (epoch ends and mid-epoch ones), including those before a resume.</param>
/// <param name="BestScore">Best validation score (the family's measure: rsum, R1+R5 or mAP).</param>
/// <param name="BestEpoch">Its epoch (1-based).</param>
/// <param name="CheckpointPath">The latest checkpoint.</param>
/// <param name="BestPath">The best model's checkpoint.</param>
public sealed record TrainResult(bool Interrupted, IReadOnlyList<EpochRecord> Epochs, double BestScore, int BestEpoch, string CheckpointPath, string BestPath);
