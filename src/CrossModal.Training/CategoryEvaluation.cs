using System.Text.Json.Nodes;
using CrossModal.Evaluation.Category;
using CrossModal.Models;
using CrossModal.Models.Files;

namespace CrossModal.Training;

/// <summary>
/// Evaluates a trained category-level model on a split of its data folder under the protocol it was trained for:
/// a model trained on all classes gets the standard protocol (all test pairs); one trained on the seen classes of an
/// extendable split gets the unseen classes' test pairs and, for the generalised variant, all test pairs. The test
/// features are rebuilt from the run's saved options (<see cref="CategoryRunData"/>), so TF-IDF features use the
/// vocabulary fitted on exactly the training texts the model saw.
/// </summary>
public static class CategoryEvaluation
{
    /// <summary>One model's result: <see cref="Standard"/>, or <see cref="Unseen"/> and <see cref="Generalised"/>.</summary>
    /// <param name="Path">The model file.</param>
    /// <param name="Model">The family's name.</param>
    /// <param name="TextFeatures">The text features' name ("lda10", "tfidf5000").</param>
    /// <param name="SeenClasses">Names (or indices) of the classes trained on.</param>
    /// <param name="UnseenClasses">Names (or indices) of the classes not trained on (empty: standard protocol).</param>
    /// <param name="Standard">Metrics on all test pairs of a model trained on all classes.</param>
    /// <param name="Unseen">Metrics on the unseen classes' test pairs.</param>
    /// <param name="Generalised">Metrics on all test pairs of a model trained on the seen classes.</param>
    public sealed record Result(string Path, string Model, string TextFeatures, IReadOnlyList<string> SeenClasses, IReadOnlyList<string> UnseenClasses,
        CategoryMetrics? Standard, CategoryMetrics? Unseen, CategoryMetrics? Generalised)
    {
        /// <summary>"standard" or "extendable".</summary>
        public string Protocol => Standard is not null ? "standard" : "extendable";

        /// <summary>The result as JSON: path, model, protocol, classes, and each part's metrics.</summary>
        public JsonObject ToJsonObject()
        {
            var o = new JsonObject
            {
                ["path"] = Path, ["model"] = Model, ["text_features"] = TextFeatures, ["protocol"] = Protocol,
                ["seen"] = new JsonArray(SeenClasses.Select(c => (JsonNode?)c).ToArray()),
                ["unseen"] = new JsonArray(UnseenClasses.Select(c => (JsonNode?)c).ToArray()),
            };
            if (Standard is not null) o["standard"] = Standard.ToJsonObject();
            if (Unseen is not null) o["unseen_metrics"] = Unseen.ToJsonObject();
            if (Generalised is not null) o["generalised"] = Generalised.ToJsonObject();
            return o;
        }
    }

    /// <summary>
    /// Evaluates the model in <paramref name="modelPath"/> (model_best.safetensors or a checkpoint written by the
    /// trainer) on <paramref name="split"/> of <paramref name="dataPath"/> (default: the folder it was trained on).
    /// </summary>
    public static Result Evaluate(string modelPath, string? dataPath = null, string split = "test", IReadOnlyList<int>? ks = null)
    {
        var checkpoint = Checkpoint.Load(modelPath);
        var model = ModelFile.CreateModel(checkpoint.File) as CategoryModel
            ?? throw new InvalidDataException($"{modelPath}: a {checkpoint.File.Config.Model} model is not a category-level model; evaluate it with 'crossmodal eval --data PRECOMP'.");
        if (checkpoint.Options is null)
            throw new InvalidDataException($"{modelPath}: the file has no training options ('train_options'); category models are evaluated with the features they were trained on, so use a model_best.safetensors or checkpoint.safetensors written by 'crossmodal train'.");
        model.Eval();
        var options = checkpoint.Options;
        var run = CategoryRunData.Open(dataPath ?? options.DataPath, options.TrainSplit, options.Category);
        var test = run.OpenSplit(split);
        string Name(int c) => test.Categories?[c] ?? c.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var seen = run.Classes.Select(Name).ToArray();
        var unseenClasses = run.Unseen;
        var unseen = unseenClasses.Select(Name).ToArray();
        if (unseenClasses.Count == 0)
            return new Result(modelPath, model.Name, run.TextFeaturesName, seen, unseen, CategoryProtocol.Evaluate(model, test, ks), null, null);
        return new Result(modelPath, model.Name, run.TextFeaturesName, seen, unseen, null,
            CategoryProtocol.Evaluate(model, test.Select(unseenClasses.ToArray()), ks), CategoryProtocol.Evaluate(model, test, ks));
    }
}
