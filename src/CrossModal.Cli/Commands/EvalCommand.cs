using System.CommandLine;
using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Threading;
using CrossModal.Text;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal eval`: R@K, medr, meanr and rsum of one model or an ensemble on a split. Under <c>mpirun -np N</c> the
/// ranks share the images (every rank reads the checkpoints and the data) and rank 0 prints and writes the same
/// metrics one process gives.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoints = new Option<string[]>("--checkpoint") { Description = "model checkpoint; repeat to evaluate an ensemble (similarity matrices averaged)", Required = true, AllowMultipleArgumentsPerToken = false };
        var data = new Option<string>("--data") { Description = "precomp data folder", Required = true };
        var vocab = new Option<string?>("--vocab") { Description = "vocabulary for checkpoints that carry none: SCAN JSON or the pickled vocab.py object (.pkl)" };
        var split = new Option<string>("--split") { Description = "split: test (Flickr30K 1K), testall (COCO 5K, or COCO 1K with --fold5), dev, ...", DefaultValueFactory = _ => "test" };
        var fold5 = new Option<bool>("--fold5") { Description = "COCO 1K protocol: metrics averaged over five 1K folds of the split" };
        var json = new Option<string?>("--json") { Description = "write {i2t, t2i, rsum} JSON to this file" };
        var simsOut = new Option<string?>("--sims-out") { Description = "write the images x captions similarity matrix (.npy; with --fold5 the 5 fold blocks stacked)" };
        var threads = new Option<int>("--threads") { Description = "worker threads (default: all cores; under mpirun each rank's share of its machine's cores)", DefaultValueFactory = _ => RankSession.DefaultThreads };
        var cmd = new Command("eval", "Evaluate image-text retrieval (R@1/5/10, medr, meanr, rsum) with the standard protocols.");
        foreach (var o in new Option[] { checkpoints, data, vocab, split, fold5, json, simsOut, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            using var session = RankSession.Start();
            return session.Run(() => Evaluate(p, session));
        });
        return cmd;

        int Evaluate(ParseResult p, RankSession session)
        {
            Parallelism.Threads = p.GetValue(threads);
            bool root = session.IsRoot;
            // Every rank reads the checkpoints and opens the data; a failure on any rank ends all of them with its message.
            var (models, dataset) = Agreement.Run(session.Ranks, () =>
            {
                var list = new List<ModelHandle>();
                foreach (var path in p.GetValue(checkpoints)!)
                {
                    var model = ModelHandle.Load(path, p.GetValue(vocab));
                    if (list.Count > 0 && !SameWords(model.Vocabulary, list[0].Vocabulary))
                        throw new CliException($"{path}: its vocabulary differs from the first checkpoint's; an ensemble needs one vocabulary.");
                    list.Add(model);
                    if (root) Console.Error.WriteLine($"loaded {path}: {model.Config.ToJson()}");
                }
                return (list, PrecompDataset.Open(p.GetValue(data)!, p.GetValue(split)!, list[0].Vocabulary));
            }, opened => opened.Item2.Dispose());
            using var _ = dataset;
            var bar = new ConsoleProgress();
            var progress = root ? new SyncProgress<EvaluationProgress>(e => { bar.Clear(); if (!Console.IsErrorRedirected) Console.Error.Write(e); else Console.Error.WriteLine(e); }) : null;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = Evaluator.Evaluate(models, dataset, p.GetValue(fold5), progress, session.Ranks);
            if (!root) return 0;
            bar.Clear();
            if (!Console.IsErrorRedirected) Console.Error.WriteLine();
            if (result.Folds is { } folds)
                for (int f = 0; f < folds.Length; f++) Console.WriteLine($"fold {f + 1}: {folds[f]}");
            Console.WriteLine($"{(result.Folds is null ? "" : "mean of 5 folds: ")}{result.Metrics}");
            string ranks = session.Ranks.Size > 1 ? $", {session.Ranks.Size} ranks" : "";
            Console.WriteLine($"({dataset.ImageCount} images, {dataset.CaptionCount} captions, {models.Count} model{(models.Count > 1 ? "s" : "")}{ranks}, {clock.Elapsed.TotalSeconds:F1} s)");
            if (p.GetValue(json) is { } jsonPath) AtomicFile.WriteAllText(jsonPath, result.Metrics.ToJson() + "\n");
            if (p.GetValue(simsOut) is { } simsPath) Npy.Write(simsPath, result.Similarities, result.SimilarityShape);
            return 0;
        }
    }

    private static bool SameWords(Vocabulary a, Vocabulary b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (a.WordOf(i) != b.WordOf(i)) return false;
        return true;
    }
}
