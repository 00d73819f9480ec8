using System.Text.Json;
using CrossModal.Models;
using CrossModal.Models.Objectives;

namespace CrossModal.Training;

/// <summary>
/// A training run: where the data and the outputs are, the seed, the splits, and the <see cref="Recipe"/> (the
/// optimisation's hyper-parameters, whose defaults come from the model's family).
/// </summary>
public sealed record TrainOptions
{
    /// <summary>The data folder (a precomp folder, or a labelled-pairs folder for category-level models).</summary>
    public required string DataPath { get; init; }

    /// <summary>Where checkpoints, metrics.jsonl and the training curve go.</summary>
    public required string OutputPath { get; init; }

    /// <summary>The optimisation recipe (batch size, learning rate and its decay, epochs, clipping, margin, ...).</summary>
    public TrainingRecipe Recipe { get; init; } = new();

    /// <summary>Seed of every random choice (initialisation, shuffling, dropout).</summary>
    public ulong Seed { get; init; }

    /// <summary>Training split name.</summary>
    public string TrainSplit { get; init; } = "train";

    /// <summary>Validation split name.</summary>
    public string ValSplit { get; init; } = "dev";

    /// <summary>Validation captions kept (the originals truncate dev to 5,000 = 1,000 images).</summary>
    public int ValMaxCaptions { get; init; } = 5000;

    /// <summary>Batches per epoch to run (0 = all); for smoke runs and demos.</summary>
    public int MaxBatchesPerEpoch { get; init; }

    /// <summary>
    /// Minutes between checkpoints inside an epoch (0 = off; every epoch's end is saved anyway). A crash then loses
    /// at most this much work: an epoch of a SCAN model on COCO takes about 40 minutes on two cores.
    /// </summary>
    public double CheckpointMinutes { get; init; } = 10;

    /// <summary>Iterations between checkpoints inside an epoch (0 = off); either interval triggers a save.</summary>
    public int CheckpointSteps { get; init; }

    /// <summary>Serialised with snake_case names (the recipe nested under "recipe").</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ConfigJson.Options);

    /// <summary>Parses <see cref="ToJson"/> output.</summary>
    public static TrainOptions FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainOptions>(json, ConfigJson.Options) ?? throw new InvalidDataException($"{source}: empty training options.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: training options are not valid JSON: {e.Message}");
        }
    }

    /// <summary>Rejects impossible values with one message.</summary>
    public void Validate()
    {
        Recipe.Validate();
        if (MaxBatchesPerEpoch < 0) throw new ArgumentException($"--max-batches must not be negative, got {MaxBatchesPerEpoch}.");
        if (!(CheckpointMinutes >= 0) || double.IsInfinity(CheckpointMinutes))
            throw new ArgumentException($"--checkpoint-minutes must be a non-negative number (0 = off), got {CheckpointMinutes}.");
        if (CheckpointSteps < 0) throw new ArgumentException($"--checkpoint-steps must not be negative (0 = off), got {CheckpointSteps}.");
    }
}
