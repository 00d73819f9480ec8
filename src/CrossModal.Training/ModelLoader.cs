using CrossModal.Checkpoints;
using CrossModal.Models;
using CrossModal.Text;

namespace CrossModal.Training;

/// <summary>
/// Opens a trained model for evaluation or search: a CrossModal checkpoint (.safetensors, which carries its
/// vocabulary), or an original PyTorch checkpoint of VSE++/SCAN (model_best.pth.tar, zip or legacy; read without
/// executing anything), with a vocabulary given separately for checkpoints without one.
/// </summary>
public static class ModelLoader
{
    /// <summary>The model and the vocabulary its word ids refer to.</summary>
    public static (MatchingModel Model, Vocabulary Vocabulary) Load(string path, string? vocabPath = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        MatchingModel model;
        string? vocabJson = null;
        if (TorchCheckpoint.IsTorchCheckpoint(path))
        {
            model = ModelCheckpoint.Load(path).CreateModel();
        }
        else
        {
            var content = Checkpoint.Load(path);
            model = Checkpoint.CreateModel(content);
            vocabJson = content.VocabJson;
        }
        Vocabulary vocab = vocabPath is not null ? Vocabulary.Load(vocabPath)
            : vocabJson is not null ? Vocabulary.FromJson(vocabJson, path)
            : throw new InvalidDataException($"{path}: the checkpoint carries no vocabulary; pass --vocab (the vocabulary JSON the model was trained with).");
        if (vocab.Count != model.Config.VocabSize)
            throw new InvalidDataException($"{path}: the model's word embedding has {model.Config.VocabSize} rows, the vocabulary {(vocabPath ?? "in the checkpoint")} has {vocab.Count} words.");
        model.Eval();
        return (model, vocab);
    }
}
