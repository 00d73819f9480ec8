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
/// `crossmodal eval`: R@K, medr, meanr and rsum of one instance-level model or an ensemble on a split; for
/// category-level models (MASLN, ACMR-style) mAP, P@K and precision-recall curves of each model under the protocol
/// it was trained for, and the mean and spread over several models (seeds or splits). Under <c>mpirun -np N</c> the ranks share the images (every rank reads the
/// checkpoints and the data) and rank 0 prints and writes the same metrics one process gives.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoints = new Option<string[]>("--checkpoint") { Description = "model checkpoint; repeat to evaluate an ensemble (similarity matrices averaged). Category models: each is evaluated on its own and the mean and spread reported; a run folder stands for its model_best.safetensors, or those of its split-k sub-folders", Required = true, AllowMultipleArgumentsPerToken = false };
        var data = new Option<string?>("--data") { Description = "data folder: precomp (instance models; required) or labelled pairs (category models; default: the folder they were trained on)" };
        var vocab = new Option<string?>("--vocab") { Description = "vocabulary for checkpoints that carry none: SCAN JSON or the pickled vocab.py object (.pkl)" };
        var split = new Option<string>("--split") { Description = "split: test (Flickr30K 1K), testall (COCO 5K, or COCO 1K with --fold5), dev, ...", DefaultValueFactory = _ => "test" };
        var fold5 = new Option<bool>("--fold5") { Description = "COCO 1K protocol: metrics averaged over five 1K folds of the split" };
        var json = new Option<string?>("--json") { Description = "write {i2t, t2i, rsum} JSON to this file (category models: every model's metrics and the summary)" };
        var prSvg = new Option<string?>("--pr-svg") { Description = "[category] write the precision-recall curves (mean over the models) as SVG to this file" };
        var ks = new Option<string>("--k") { Description = "[category] the K of the precisions P@K, comma-separated", DefaultValueFactory = _ => "1,5,10,20,50,100" };
        var simsOut = new Option<string?>("--sims-out") { Description = "write the images x captions similarity matrix (.npy; with --fold5 the 5 fold blocks stacked)" };
        var twoStage = new Option<bool>("--two-stage") { Description = "two-stage retrieval: pre-rank by vectors, re-score each query's top --rerank with the model; reports R@K, pair scores and time next to full scoring" };
        var rerank = new Option<int>("--rerank") { Description = "with --two-stage: candidates re-scored per query", DefaultValueFactory = _ => 128 };
        var prerank = new Option<string?>("--prerank") { Description = "with --two-stage: a (VSE++) checkpoint whose vectors pre-rank (default: the model's own pooled vectors)" };
        var threads = new Option<int>("--threads") { Description = "worker threads (default: all cores; under mpirun each rank's share of its machine's cores)", DefaultValueFactory = _ => RankSession.DefaultThreads };
        var cmd = new Command("eval", "Evaluate retrieval: R@1/5/10, medr, meanr, rsum of instance-level models; mAP, P@K and PR curves of category-level models (standard or extendable protocol); --two-stage: pre-rank by vectors, re-score the top candidates.");
        foreach (var o in new Option[] { checkpoints, data, vocab, split, fold5, json, simsOut, prSvg, ks, twoStage, rerank, prerank, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            using var session = RankSession.Start();
            return session.Run(() => Evaluate(p, session));
        });
        return cmd;

        int Evaluate(ParseResult p, RankSession session)
        {
            Parallelism.Threads = p.GetValue(threads);
            var paths = p.GetValue(checkpoints)!;
            if (CategoryEval.IsCategoryModel(paths[0]))
                return CategoryEval.Run(paths, p.GetValue(data), FamilyOptions.Given(p, split) ? p.GetValue(split)! : "test", p.GetValue(ks)!, p.GetValue(json), p.GetValue(prSvg));
            string dataPath = p.GetValue(data) ?? throw new CliException("--data is required (the precomp folder to evaluate on).");
            if (p.GetValue(twoStage) && session.Ranks.Size > 1) throw new CliException("--two-stage runs in one process, not under mpirun.");
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
                return (list, PrecompDataset.Open(dataPath, p.GetValue(split)!, list[0].Vocabulary));
            }, opened => opened.Item2.Dispose());
            using var _ = dataset;
            if (p.GetValue(twoStage)) return TwoStage(models, dataset, p.GetValue(rerank), p.GetValue(prerank), p.GetValue(vocab), p.GetValue(json));
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

    /// <summary>--two-stage: full scoring first (the reference), then the two stages, both timed in this run.</summary>
    private static int TwoStage(List<ModelHandle> models, PrecompDataset dataset, int k, string? prerankPath, string? vocab, string? jsonPath)
    {
        if (models.Count != 1) throw new ArgumentException("--two-stage evaluates one checkpoint.");
        if (k < 1) throw new ArgumentException($"--rerank must be at least 1, got {k}.");
        var prerank = prerankPath is null ? null : ModelHandle.Load(prerankPath, vocab);
        if (prerank is not null && !SameWords(prerank.Vocabulary, models[0].Vocabulary))
            throw new CliException($"{prerankPath}: its vocabulary differs from the checkpoint's; both must read the same captions.");
        // Wall and CPU time of this process: on a shared machine the wall time depends on what else runs.
        var process = System.Diagnostics.Process.GetCurrentProcess();
        double Cpu() { process.Refresh(); return process.TotalProcessorTime.TotalSeconds; }
        double cpu0 = Cpu();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var full = Evaluator.Evaluate(models, dataset);
        double fullSeconds = clock.Elapsed.TotalSeconds, fullCpu = Cpu() - cpu0;
        cpu0 = Cpu();
        var result = Search.TwoStage.TwoStageEvaluator.Evaluate(models[0], dataset, k, prerank);
        double twoCpu = Cpu() - cpu0;
        Console.WriteLine($"full scoring: {full.Metrics}");
        Console.WriteLine($"  {(long)dataset.ImageCount * dataset.CaptionCount} pair scores, {fullSeconds:F1} s, {fullCpu:F1} s CPU (encoding included)");
        Console.WriteLine($"two-stage (k {k}, pre-rank {result.Prerank}): {result.Metrics}");
        Console.WriteLine($"  {result.PairScores} pair scores ({(double)result.FullPairScores / result.PairScores:F1}x fewer), {result.EncodeSeconds + result.Seconds:F1} s, {twoCpu:F1} s CPU " +
            $"(encoding included; {result.Seconds:F1} s after encoding); " +
            $"candidates hold the match for {100 * result.CandidateRecallT2I:F1}% of captions (t2i), {100 * result.CandidateRecallI2T:F1}% of images (i2t)");
        Console.WriteLine($"  R@1 change: i2t {result.Metrics.I2T.R1 - full.Metrics.I2T.R1:+0.0;-0.0;0.0}, t2i {result.Metrics.T2I.R1 - full.Metrics.T2I.R1:+0.0;-0.0;0.0}");
        if (jsonPath is not null)
        {
            var o = new System.Text.Json.Nodes.JsonObject
            {
                ["full"] = full.Metrics.ToJsonObject(), ["two_stage"] = result.Metrics.ToJsonObject(), ["k"] = k, ["prerank"] = result.Prerank,
                ["pair_scores"] = result.PairScores, ["full_pair_scores"] = result.FullPairScores, ["two_stage_seconds"] = result.Seconds, ["two_stage_encode_seconds"] = result.EncodeSeconds, ["full_seconds"] = fullSeconds, ["full_cpu_seconds"] = fullCpu, ["two_stage_cpu_seconds"] = twoCpu,
                ["candidate_recall_t2i"] = result.CandidateRecallT2I, ["candidate_recall_i2t"] = result.CandidateRecallI2T,
            };
            AtomicFile.WriteAllText(jsonPath, o.ToJsonString() + "\n");
        }
        return 0;
    }

    private static bool SameWords(Vocabulary a, Vocabulary b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (a.WordOf(i) != b.WordOf(i)) return false;
        return true;
    }
}
