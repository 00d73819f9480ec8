using System.Text.Json;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Training;

/// <summary>
/// A training checkpoint: a <see cref="ModelFile"/> (the model's state dict, its configuration and vocabulary) plus
/// what resuming needs. Tensors: each optimizer's state under "optimizer.{name}." (e.g.
/// "optimizer.adam.exp_avg.img_enc.fc.weight"). Metadata: "optimizers" (JSON {name: step count}), "train_options"
/// and "train_state" (JSON). Written atomically, like every model file.
/// </summary>
public static class Checkpoint
{
    /// <summary>Writes a checkpoint atomically; without an objective it is a plain model file with the run's options and state.</summary>
    public static void Save(string path, RetrievalModel model, string? vocabJson, TrainingObjective? objective = null,
        TrainOptions? options = null, TrainState? state = null)
    {
        var metadata = new Dictionary<string, string>();
        IEnumerable<(string, Tensor)>? tensors = null;
        if (objective is not null)
        {
            tensors = objective.Optimizers.SelectMany(o => o.Optimizer.StateTensors().Select(t => (o.Name + "." + t.Name, t.Tensor)));
            metadata["optimizers"] = JsonSerializer.Serialize(objective.Optimizers.ToDictionary(o => o.Name, o => o.Optimizer.StepCount));
        }
        if (options is not null) metadata["train_options"] = options.ToJson();
        if (state is not null) metadata["train_state"] = state.ToJson();
        ModelFile.Save(path, model, vocabJson, tensors, metadata);
    }

    /// <summary>Reads a checkpoint (any model file; the training parts are null or empty when absent).</summary>
    public static TrainingCheckpoint Load(string path) => FromFile(ModelFile.Read(path), path);

    /// <summary>Parses the bytes of a checkpoint (<paramref name="path"/> names it in errors).</summary>
    public static TrainingCheckpoint Parse(ReadOnlySpan<byte> bytes, string path) => FromFile(ModelFile.Parse(bytes, path), path);

    private static TrainingCheckpoint FromFile(ModelFileContent file, string path)
    {
        TrainOptions? options = file.Metadata.TryGetValue("train_options", out var o) ? TrainOptions.FromJson(o, path) : null;
        TrainState? state = file.Metadata.TryGetValue("train_state", out var s) ? TrainState.FromJson(s, path) : null;
        var steps = new Dictionary<string, long>(StringComparer.Ordinal);
        if (file.Metadata.TryGetValue("optimizers", out var json))
        {
            try
            {
                steps = JsonSerializer.Deserialize<Dictionary<string, long>>(json) ?? steps;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: metadata 'optimizers' is not valid JSON: {e.Message}");
            }
        }
        return new TrainingCheckpoint(file, options, state, steps);
    }

    /// <summary>Restores every optimizer of <paramref name="objective"/> from <paramref name="checkpoint"/>, by name.</summary>
    public static void RestoreOptimizers(TrainingCheckpoint checkpoint, TrainingObjective objective)
    {
        foreach (var o in objective.Optimizers)
        {
            if (!checkpoint.OptimizerSteps.TryGetValue(o.Name, out long step))
                throw new InvalidDataException($"{checkpoint.File.Path}: no state for optimizer '{o.Name}' (the checkpoint has: {string.Join(", ", checkpoint.OptimizerSteps.Keys)}).");
            string prefix = o.Name + ".";
            var state = checkpoint.File.TrainingTensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
            try
            {
                o.Optimizer.LoadState(state, step);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{checkpoint.File.Path}: optimizer '{o.Name}': {e.Message}");
            }
        }
    }
}
