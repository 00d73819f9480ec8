using CrossModal.Tensors;
using CrossModal.Tensors.IO;

namespace CrossModal.Models.Files;

/// <summary>
/// CrossModal's model file: one safetensors file. Tensors: the model's state dict under its PyTorch names (VSE++/SCAN:
/// the original two state dicts prefixed "img_enc." and "txt_enc.", e.g. "img_enc.fc.weight",
/// "txt_enc.rnn.weight_ih_l0"); a training checkpoint adds its optimizers' state under "optimizer.". String metadata:
/// "format" = crossmodal-checkpoint/1, "model_config" (JSON, the original flag names), "vocab" (the SCAN
/// vocabulary JSON), and whatever the writer adds (the trainer: "train_options", "train_state", "optimizers").
/// Written atomically (temporary file + rename), so a crash never leaves half a file.
/// </summary>
public static class ModelFile
{
    /// <summary>The format tag.</summary>
    public const string Format = "crossmodal-checkpoint/1";

    /// <summary>Name prefix of training-state tensors (optimizers), kept apart from the model's state dict.</summary>
    public const string TrainingPrefix = "optimizer.";

    /// <summary>Writes <paramref name="model"/> (and optional training state) atomically.</summary>
    public static void Save(string path, RetrievalModel model, string? vocabJson,
        IEnumerable<(string Name, Tensor Tensor)>? trainingTensors = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = model.StateDict().ToList();
        if (trainingTensors is not null) tensors.AddRange(trainingTensors.Select(t => (TrainingPrefix + t.Name, t.Tensor)));
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["model_config"] = model.Config.ToJson(),
        };
        if (vocabJson is not null) meta["vocab"] = vocabJson;
        if (metadata is not null)
            foreach (var (k, v) in metadata) meta[k] = v;
        var int64 = tensors.Where(t => t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Select(t => t.Name).ToHashSet();
        Safetensors.Write(path, tensors, meta, int64);
    }

    /// <summary>Reads a file written by <see cref="Save"/>; errors name the file and what is wrong.</summary>
    public static ModelFileContent Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of a file written by <see cref="Save"/> (<paramref name="path"/> names it in errors; e.g. received from another rank).</summary>
    public static ModelFileContent Parse(ReadOnlySpan<byte> bytes, string path)
    {
        var file = Safetensors.Parse(bytes, path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != Format)
            throw new InvalidDataException($"{path}: not a CrossModal checkpoint (metadata 'format' is '{format ?? "missing"}', expected '{Format}'). For PyTorch checkpoints of the original code use a .pth.tar file.");
        if (!file.Metadata.TryGetValue("model_config", out var configJson))
            throw new InvalidDataException($"{path}: the checkpoint has no 'model_config' metadata.");
        var config = ModelConfig.FromJson(configJson, path);
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var training = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in file.Tensors)
        {
            if (name.StartsWith(TrainingPrefix, StringComparison.Ordinal)) training[name[TrainingPrefix.Length..]] = t;
            else model[name] = t;
        }
        file.Metadata.TryGetValue("vocab", out var vocab);
        return new ModelFileContent(path, config, model, vocab, training, file.Metadata);
    }

    /// <summary>Builds the model a file describes and loads its weights (strict: every name must match).</summary>
    public static RetrievalModel CreateModel(ModelFileContent content)
    {
        RetrievalModel model;
        try
        {
            model = content.Config.Family.Create(content.Config, new Rng(0));
            model.LoadStateDict(content.ModelTensors);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"{content.Path}: {e.Message}");
        }
        return model;
    }
}
