using System.CommandLine;
using CrossModal.Data;
using CrossModal.Evaluation;
using CrossModal.Models;
using CrossModal.Tensors.Threading;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal caption`: greedy captions from a model's captioning branch (VSRN trained with the caption loss), as a
/// check of what the branch learned: a few examples next to a reference, and corpus BLEU-4 of every captioned image
/// against all of its reference captions (in the vocabulary's words, without &lt;start&gt;/&lt;end&gt;; words outside
/// the vocabulary are &lt;unk&gt; on both sides).
/// </summary>
internal static class CaptionCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "model checkpoint with a captioning branch (trained by crossmodal train)", Required = true };
        var data = new Option<string>("--data") { Description = "precomp data folder", Required = true };
        var vocab = new Option<string?>("--vocab") { Description = "vocabulary for checkpoints that carry none: SCAN JSON or the pickled vocab.py object (.pkl)" };
        var split = new Option<string>("--split") { Description = "split to caption", DefaultValueFactory = _ => "test" };
        var limit = new Option<int>("--limit") { Description = "caption only the first N images (0 = all)", DefaultValueFactory = _ => 0 };
        var show = new Option<int>("--show") { Description = "print this many examples", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("caption", "Describe images with a model's captioning branch (greedy decoding) and print BLEU-4 against the reference captions.");
        foreach (var o in new Option[] { checkpoint, data, vocab, split, limit, show, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            Parallelism.Threads = p.GetValue(threads);
            string path = p.GetValue(checkpoint)!;
            var model = ModelHandle.Load(path, p.GetValue(vocab));
            if (!model.CanCaption)
                throw new CliException($"{path}: this {model.Family.Name} model has no captioning branch (original checkpoints do not save it; train one with crossmodal train).");
            using var dataset = PrecompDataset.Open(p.GetValue(data)!, p.GetValue(split)!, model.Vocabulary);
            int count = p.GetValue(limit) is > 0 and var l ? Math.Min(l, dataset.ImageCount) : dataset.ImageCount;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var generated = model.CaptionImages(dataset, count);
            var words = model.Vocabulary;
            var hypotheses = generated.Select(ids => (IReadOnlyList<string>)ids.Select(words.WordOf).ToList()).ToList();
            var references = new List<IReadOnlyList<IReadOnlyList<string>>>(count);
            var captionsOf = new List<int>[count];
            for (int i = 0; i < count; i++) captionsOf[i] = new List<int>();
            for (int c = 0; c < dataset.CaptionCount; c++)
                if (dataset.ImageOf(c) < count) captionsOf[dataset.ImageOf(c)].Add(c);
            for (int i = 0; i < count; i++)
            {
                // The stored ids are <start> words <end>: the references are the words between.
                references.Add(captionsOf[i].Select(c =>
                {
                    var ids = dataset.CaptionTokens(c);
                    return (IReadOnlyList<string>)ids[1..^1].ToArray().Select(words.WordOf).ToList();
                }).ToList());
            }
            for (int i = 0; i < Math.Min(p.GetValue(show), count); i++)
            {
                Console.WriteLine($"image {i}: {string.Join(' ', hypotheses[i])}");
                if (captionsOf[i].Count > 0) Console.WriteLine($"  reference: {dataset.CaptionText(captionsOf[i][0])}");
            }
            double bleu = Bleu.Corpus(hypotheses, references);
            Console.WriteLine($"BLEU-4 {bleu * 100:F2} ({count} images, {references.Sum(r => r.Count)} reference captions, greedy decoding, {clock.Elapsed.TotalSeconds:F1} s)");
            return 0;
        });
        return cmd;
    }
}
