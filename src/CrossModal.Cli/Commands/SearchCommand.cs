using System.CommandLine;
using System.Text.Json;
using CrossModal.Search.Gallery;
using CrossModal.Tensors.Threading;
using CrossModal.Text;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal search`: a text or an image query against a gallery index. The query is encoded with the
/// checkpoint the index was built with (another file is refused) and, for images, through the recorded ONNX
/// pipeline; prints ranked ids, scores and paths (or JSON).
/// </summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        var index = new Option<string>("--index") { Description = "gallery index file (crossmodal index build)", Required = true };
        var text = new Option<string?>("--text") { Description = "a sentence to search the images with, e.g. \"two dogs run on the beach\"" };
        var image = new Option<string?>("--image") { Description = "an image file (JPEG/PNG) to search with: its nearest images, or with --target captions the captions that describe it" };
        var target = new Option<string?>("--target") { Description = "what to search: images or captions (default: images for text, images for an image)" };
        var k = new Option<int>("--k") { Description = "number of results", DefaultValueFactory = _ => 10 };
        var rerank = new Option<int>("--rerank") { Description = "cross-attention models: candidates the pooled vectors pre-rank for the model to re-score", DefaultValueFactory = _ => 128 };
        var json = new Option<bool>("--json") { Description = "print one JSON object (query, unknown words, results)" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "where the index's checkpoint is now (default: its recorded path); any other file is refused" };
        var vocab = new Option<string?>("--vocab") { Description = "vocabulary JSON for checkpoints that carry none" };
        var onnx = new Option<FileInfo?>("--onnx") { Description = "where the index's ONNX model is now (default: its recorded path)" };
        var threads = new Option<int>("--threads") { Description = "worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("search", "Search a gallery index with a sentence or an image: ranked ids, scores and paths.");
        foreach (var o in new Option[] { index, text, image, target, k, rerank, json, checkpoint, vocab, onnx, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            Parallelism.Threads = Math.Max(1, p.GetValue(threads));
            string? queryText = p.GetValue(text), queryImage = p.GetValue(image);
            if ((queryText is null) == (queryImage is null)) throw new ArgumentException("Give exactly one query: --text \"...\" or --image FILE.");
            int topK = p.GetValue(k);
            if (topK < 1) throw new ArgumentException($"--k must be at least 1 (the number of results), got {topK}.");
            if (p.GetValue(rerank) < 1) throw new ArgumentException($"--rerank must be at least 1, got {p.GetValue(rerank)}.");
            var where = p.GetValue(target) switch
            {
                null or "images" => GalleryTarget.Images,
                "captions" => GalleryTarget.Captions,
                var s => throw new ArgumentException($"--target must be images or captions, got '{s}'."),
            };
            string path = p.GetValue(index)!;
            using var gallery = GalleryIndex.Open(path);
            if (where == GalleryTarget.Captions && gallery.Captions is null) throw new ArgumentException($"{path}: the index holds no captions (build it with --captions).");
            var model = gallery.LoadModel(p.GetValue(checkpoint), p.GetValue(vocab));
            GalleryQuery query;
            if (queryText is not null)
            {
                query = GalleryQuery.FromText(model, queryText);
                foreach (var w in query.UnknownWords)
                    Console.Error.WriteLine($"search: unknown word '{w}' (not in the vocabulary of {model.Vocabulary.Count} words): encoded as {model.Vocabulary.WordOf(model.Vocabulary.UnkId)} (id {model.Vocabulary.UnkId})");
                if (query.UnknownWords.Count == WordTokenizer.TokenizeCaption(queryText).Count)
                    Console.Error.WriteLine("search: warning: no word of the query is in the vocabulary; the results do not depend on it.");
            }
            else
            {
                var pipeline = gallery.Metadata.ImageFeatures ?? throw new ArgumentException($"{path}: the index records no image pipeline (built from precomp data without --onnx); image queries need one.");
                var extractor = pipeline.CreateExtractor(path, p.GetValue(onnx)?.FullName, 1);
                var features = GalleryBuilder.ImageFeatures(extractor, queryImage!);
                int expected = Math.Max(1, gallery.Metadata.FeatureRegions) * gallery.Metadata.FeatureDim;
                if (features.Length != expected)
                    throw new InvalidDataException($"{queryImage}: the pipeline gives {features.Length} feature values; the index's model takes {expected}.");
                query = GalleryQuery.FromFeatures(model, features, gallery.Metadata.FeatureRegions, gallery.Metadata.FeatureDim);
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var hits = gallery.Search(model, query, where, topK, p.GetValue(rerank));
            double ms = clock.Elapsed.TotalMilliseconds;
            if (p.GetValue(json))
            {
                var result = new Dictionary<string, object?>
                {
                    ["query"] = queryText ?? Path.GetFullPath(queryImage!),
                    ["kind"] = queryText is null ? "image" : "text",
                    ["target"] = where == GalleryTarget.Images ? "images" : "captions",
                    ["unknown_words"] = query.UnknownWords,
                    ["results"] = hits.Select(h => new Dictionary<string, object?> { ["rank"] = h.Rank, ["id"] = h.Item.Id, ["score"] = h.Score, ["path"] = h.Item.Path, ["text"] = h.Item.Text.Length > 0 ? h.Item.Text : null }).ToArray(),
                    ["milliseconds"] = Math.Round(ms, 2),
                };
                Console.WriteLine(JsonSerializer.Serialize(result));
            }
            else
            {
                foreach (var h in hits)
                    Console.WriteLine($"{h.Rank,3}  {h.Score,8:F4}  {h.Item.Id}  {h.Item.Path}{(h.Item.Text.Length > 0 ? "  \"" + h.Item.Text + "\"" : "")}");
                Console.Error.WriteLine($"search: {hits.Count} of {(where == GalleryTarget.Images ? gallery.Images.Count : gallery.Captions!.Count)} {(where == GalleryTarget.Images ? "images" : "captions")} in {ms:F1} ms");
            }
            return 0;
        });
        return cmd;
    }
}
