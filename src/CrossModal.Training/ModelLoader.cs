using CrossModal.Models;
using CrossModal.Text;

namespace CrossModal.Training;

/// <summary>
/// Opens a trained model for evaluation or search: a CrossModal checkpoint (.safetensors, which carries its
/// vocabulary), or a vocabulary given separately for checkpoints without one.
/// </summary>
public static class ModelLoader
{
    /// <summary>The model and the vocabulary its word ids refer to.</summary>
    public static (MatchingModel Model, Vocabulary Vocabulary) Load(string path, string? vocabPath = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        var content = Checkpoint.Load(path);
        var model = Checkpoint.CreateModel(content);
        Vocabulary vocab = vocabPath is not null ? Vocabulary.Load(vocabPath)
            : content.VocabJson is not null ? Vocabulary.FromJson(content.VocabJson, path)
            : throw new InvalidDataException($"{path}: the checkpoint carries no vocabulary; pass --vocab.");
        if (vocab.Count != model.Config.VocabSize)
            throw new InvalidDataException($"{path}: the model's word embedding has {model.Config.VocabSize} rows, the vocabulary {(vocabPath ?? "in the checkpoint")} has {vocab.Count} words.");
        model.Eval();
        return (model, vocab);
    }
}
