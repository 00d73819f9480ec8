using CrossModal.Models;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Optim;

namespace CrossModal.Training;

/// <summary>
/// CrossModal's checkpoint: one safetensors file. Tensors: the model's parameters under their PyTorch names with
/// the original two state dicts prefixed "img_enc." and "txt_enc." (e.g. "img_enc.fc.weight",
/// "txt_enc.rnn.weight_ih_l0"), and, for training checkpoints, the optimizer state under "optimizer.". String
/// metadata: "format" = crossmodal-checkpoint/1, "model_config" (JSON, the original flag names), "vocab" (the SCAN
/// vocabulary JSON), "train_options" and "train_state" (JSON). Written atomically (temporary file + rename).
/// </summary>
public static class Checkpoint
{
    /// <summary>The format tag.</summary>
    public const string Format = "crossmodal-checkpoint/1";

    private const string OptimizerPrefix = "optimizer.";

    /// <summary>Writes a checkpoint atomically.</summary>
    public static void Save(string path, MatchingModel model, string? vocabJson, Optimizer? optimizer = null,
        TrainOptions? options = null, TrainState? state = null)
    {
        var tensors = model.StateDict().ToList();
        if (optimizer is not null) tensors.AddRange(optimizer.StateTensors().Select(t => (OptimizerPrefix + t.Name, t.Tensor)));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["model_config"] = model.Config.ToJson(),
        };
        if (vocabJson is not null) metadata["vocab"] = vocabJson;
        if (options is not null) metadata["train_options"] = options.ToJson();
        if (state is not null) metadata["train_state"] = state.ToJson();
        if (optimizer is not null) metadata["optimizer_step"] = optimizer.StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var int64 = tensors.Where(t => t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Select(t => t.Name).ToHashSet();
        Safetensors.Write(path, tensors, metadata, int64);
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>; errors name the file and what is wrong.</summary>
    public static CheckpointContent Load(string path)
    {
        var file = Safetensors.Read(path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != Format)
            throw new InvalidDataException($"{path}: not a CrossModal checkpoint (metadata 'format' is '{format ?? "missing"}', expected '{Format}'). For PyTorch checkpoints of the original code use a .pth.tar file.");
        if (!file.Metadata.TryGetValue("model_config", out var configJson))
            throw new InvalidDataException($"{path}: the checkpoint has no 'model_config' metadata.");
        var config = ModelConfig.FromJson(configJson, path);
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var optimizer = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in file.Tensors)
        {
            if (name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)) optimizer[name[OptimizerPrefix.Length..]] = t;
            else model[name] = t;
        }
        file.Metadata.TryGetValue("vocab", out var vocab);
        TrainOptions? options = file.Metadata.TryGetValue("train_options", out var o) ? TrainOptions.FromJson(o, path) : null;
        TrainState? state = file.Metadata.TryGetValue("train_state", out var s) ? TrainState.FromJson(s, path) : null;
        long step = file.Metadata.TryGetValue("optimizer_step", out var st) && long.TryParse(st, out var v) ? v : 0;
        return new CheckpointContent(path, config, model, vocab, optimizer, step, options, state);
    }

    /// <summary>Builds the model a checkpoint describes and loads its weights (strict: every name must match).</summary>
    public static MatchingModel CreateModel(CheckpointContent content)
    {
        var model = ModelFactory.Create(content.Config, new Rng(0));
        try
        {
            model.LoadStateDict(content.ModelTensors);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{content.Path}: {e.Message}");
        }
        return model;
    }
}
