namespace CrossModal.Training;

/// <summary>Reported after every batch: where training is and the running mean loss of the epoch.</summary>
public sealed record TrainProgress(int Epoch, int NumEpochs, int Batch, int BatchesPerEpoch, double MeanLoss, long Step);
