using System.CommandLine;
using System.Diagnostics;
using CrossModal.Data;
using CrossModal.Data.Synthetic;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Tensors.Threading;
using CrossModal.Text;
using CrossModal.Training;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal demo`: the README's main job on the built-in data. Generates the synthetic scenes (no download),
/// trains a model for a few minutes, evaluates it on the test split, and answers a few free-text queries against
/// the test images with their scores.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "folder for the generated data and the trained model", DefaultValueFactory = _ => "crossmodal-demo" };
        var presets = ModelFamilies.Presets.Where(p => ModelFamilies.Get(p.Family).Task == RetrievalTask.Instance).ToList();
        var preset = new Option<string>("--preset") { Description = "the model to train: a published setting (" + string.Join(", ", presets.Select(p => p.Name)) + ")", DefaultValueFactory = _ => "scan-t2i-avg" };
        preset.AcceptOnlyFromAmong(presets.Select(p => p.Name).ToArray());
        var images = new Option<int>("--images") { Description = "scenes to generate (80% train, 10% dev, 10% test)", DefaultValueFactory = _ => 1000 };
        var epochs = new Option<int>("--num-epochs") { Description = "training epochs", DefaultValueFactory = _ => 8 };
        var embed = new Option<int>("--embed-size") { Description = "joint embedding size (smaller than the papers' 1024 so the demo runs in minutes)", DefaultValueFactory = _ => 256 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the data and the training", DefaultValueFactory = _ => 1UL };
        var threads = new Option<int>("--threads") { Description = "worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("demo", "Generate the built-in demo data, train a model for a few minutes, evaluate it, and show text-to-image results.");
        foreach (var o in new Option[] { output, preset, images, epochs, embed, seed, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            Parallelism.Threads = p.GetValue(threads);
            string root = Path.GetFullPath(p.GetValue(output)!);
            string dataDir = Path.Combine(root, "data"), runDir = Path.Combine(root, "run");
            var clock = Stopwatch.StartNew();

            Console.WriteLine($"1. generating {p.GetValue(images)} synthetic scenes in {dataDir}");
            var summary = SyntheticDataset.Generate(dataDir, new SyntheticOptions { Images = p.GetValue(images), Seed = p.GetValue(seed) });
            Console.WriteLine($"   train/dev/test = {summary.Splits["train"]}/{summary.Splits["dev"]}/{summary.Splits["test"]} images, 5 captions each, vocabulary of {summary.VocabularySize} words");

            var chosen = presets.First(x => x.Name == p.GetValue(preset));
            var family = ModelFamilies.Get(chosen.Family);
            // The paper's setting, smaller so that it trains in minutes: embed and word sizes, a faster schedule.
            var config = (MatchingConfig)chosen.Config(family.DefaultConfig) with { EmbedSize = p.GetValue(embed), WordDim = 128 };
            int numEpochs = p.GetValue(epochs);
            var recipe = chosen.Recipe(family.DefaultRecipe) with
            {
                NumEpochs = numEpochs, LrUpdate = Math.Max(1, numEpochs * 3 / 4), LearningRate = 5e-4f, MaxViolation = true, WarmupEpochs = 1,
            };
            var options = new TrainOptions { DataPath = dataDir, OutputPath = runDir, Recipe = recipe, Seed = p.GetValue(seed) };
            Console.WriteLine($"2. training {chosen.Description.Split(' ')[0]} ({chosen.Name}) for {numEpochs} epochs ({Parallelism.Threads} threads)");
            var vocab = Vocabulary.Load(summary.VocabularyPath);
            using (var trainer = Trainer.Create(options, config, vocab))
            {
                int exit = TrainCommand.RunTrainer(trainer);
                if (exit != 0) return exit;
            }

            Console.WriteLine("3. evaluating the best model on the test split");
            var best = ModelHandle.Load(Path.Combine(runDir, Trainer.BestName));
            using var test = PrecompDataset.Open(dataDir, "test", vocab);
            var result = Evaluator.Evaluate([best], test);
            Console.WriteLine($"   {result.Metrics}");

            Console.WriteLine("4. text-to-image search over the test images");
            var split = EncodedSplit.Encode(best, test);
            var ids = test.ImageIds ?? Enumerable.Range(0, test.ImageCount).Select(i => i.ToString()).ToList();
            foreach (int c in new[] { 0, 5 * (test.ImageCount / 3) + 1, 5 * (2 * test.ImageCount / 3) + 2 })
            {
                string query = test.CaptionText(c);
                var scores = Search(best, split, query);
                var top = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).Take(3).ToList();
                Console.WriteLine($"   \"{query}\"  (true image: {ids[test.ImageOf(c)]})");
                foreach (int i in top)
                    Console.WriteLine($"      {scores[i],7:F3}  {Path.Combine(dataDir, "images", ids[i] + ".png")}{(i == test.ImageOf(c) ? "  <- match" : "")}");
            }
            Console.WriteLine($"done in {clock.Elapsed.TotalMinutes:F1} min; model: {Path.Combine(runDir, Trainer.BestName)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>Scores a free-text query against every encoded image.</summary>
    internal static float[] Search(ModelHandle model, EncodedSplit images, string query)
    {
        var captions = model.EncodeText([query]);
        var scores = new float[images.Images.Count];
        model.ScoreBlock(images.Images, 0, images.Images.Count, captions, 0, 1, scores, 1);
        return scores;
    }
}
