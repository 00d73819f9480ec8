using System.Text.Json;

namespace CrossModal.Training;

/// <summary>
/// How to train, with the papers' defaults (VSE++/SCAN: batch 128, Adam lr 2e-4 decayed x0.1 every 15 epochs,
/// 30 epochs, gradient clipping at total norm 2.0, margin 0.2, validation on the first 5,000 dev captions, best
/// model by rsum). Names follow the original flags.
/// </summary>
public sealed record TrainOptions
{
    /// <summary>The precomp data folder ({split}_ims.npy, {split}_caps.txt).</summary>
    public required string DataPath { get; init; }

    /// <summary>Where checkpoints, metrics.jsonl and the training curve go.</summary>
    public required string OutputPath { get; init; }

    /// <summary>--batch_size.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>--learning_rate.</summary>
    public float LearningRate { get; init; } = 2e-4f;

    /// <summary>--lr_update: epochs between x0.1 decays.</summary>
    public int LrUpdate { get; init; } = 15;

    /// <summary>--num_epochs.</summary>
    public int NumEpochs { get; init; } = 30;

    /// <summary>--grad_clip (total L2 norm; 0 disables).</summary>
    public float GradClip { get; init; } = 2f;

    /// <summary>--margin of the hinge loss.</summary>
    public float Margin { get; init; } = 0.2f;

    /// <summary>--max_violation: hardest negative (VSE++) instead of the sum of hinges.</summary>
    public bool MaxViolation { get; init; }

    /// <summary>Epochs of sum-of-hinges before switching to max violation (VSE-infinity's warm-up; 0 = the originals).</summary>
    public int WarmupEpochs { get; init; }

    /// <summary>Seed of every random choice (initialisation, shuffling).</summary>
    public ulong Seed { get; init; }

    /// <summary>Training split name.</summary>
    public string TrainSplit { get; init; } = "train";

    /// <summary>Validation split name.</summary>
    public string ValSplit { get; init; } = "dev";

    /// <summary>Validation captions kept (the originals truncate dev to 5,000 = 1,000 images).</summary>
    public int ValMaxCaptions { get; init; } = 5000;

    /// <summary>Batches per epoch to run (0 = all); for smoke runs and demos.</summary>
    public int MaxBatchesPerEpoch { get; init; }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Serialised with snake_case names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses <see cref="ToJson"/> output.</summary>
    public static TrainOptions FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainOptions>(json, Json) ?? throw new InvalidDataException($"{source}: empty training options.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: training options are not valid JSON: {e.Message}");
        }
    }

    /// <summary>Rejects impossible values with one message.</summary>
    public void Validate()
    {
        static void Need(bool ok, string m) { if (!ok) throw new ArgumentException(m); }
        Need(BatchSize >= 2, $"--batch-size must be at least 2 (the loss needs negatives), got {BatchSize}.");
        Need(LearningRate > 0, $"--learning-rate must be positive, got {LearningRate}.");
        Need(LrUpdate > 0, $"--lr-update must be positive, got {LrUpdate}.");
        Need(NumEpochs > 0, $"--num-epochs must be positive, got {NumEpochs}.");
        Need(GradClip >= 0, $"--grad-clip must not be negative, got {GradClip}.");
        Need(WarmupEpochs >= 0, $"--warmup-epochs must not be negative, got {WarmupEpochs}.");
    }
}
