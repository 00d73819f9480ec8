using System.Text.Json;

namespace CrossModal.Training;

/// <summary>
/// Where a run stands, saved in every checkpoint so <c>--resume</c> continues exactly: the epoch to run next (or
/// the one interrupted), the batches of it already done, the best validation score so far, and the generators'
/// states (the shuffle generator's state at the start of the epoch, so the same permutation is drawn again, and the
/// model's own generator, <see cref="Models.RetrievalModel.Noise"/>, now).
/// </summary>
public sealed record TrainState
{
    /// <summary>0-based epoch to run (or being run when <see cref="BatchesDone"/> &gt; 0).</summary>
    public int Epoch { get; init; }

    /// <summary>Batches of <see cref="Epoch"/> already trained.</summary>
    public int BatchesDone { get; init; }

    /// <summary>Optimizer steps (iterations) taken in total.</summary>
    public long Step { get; init; }

    /// <summary>Best validation score so far (the family's measure; -1 before the first validation).</summary>
    public double BestScore { get; init; } = -1;

    /// <summary>Epoch (1-based count of completed epochs; for a mid-epoch validation, the epoch in progress) of the best model.</summary>
    public int BestEpoch { get; init; }

    /// <summary>Shuffle generator state at the start of <see cref="Epoch"/>.</summary>
    public ulong[] EpochShuffleState { get; init; } = Array.Empty<ulong>();

    /// <summary>State of the model's generator (dropout), now.</summary>
    public ulong[] ModelRngState { get; init; } = Array.Empty<ulong>();

    /// <summary>Training loss summed over <see cref="Epoch"/>'s batches done so far.</summary>
    public double EpochLossSum { get; init; }

    /// <summary>Each loss term summed over <see cref="Epoch"/>'s batches done so far.</summary>
    public Dictionary<string, double> EpochTermSums { get; init; } = new();

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Serialised with snake_case names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses <see cref="ToJson"/> output.</summary>
    public static TrainState FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainState>(json, Json) ?? throw new InvalidDataException($"{source}: empty training state.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: training state is not valid JSON: {e.Message}");
        }
    }
}
