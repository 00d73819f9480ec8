using System.CommandLine;
using CrossModal.Data;
using CrossModal.Distributed;
using CrossModal.Models;
using CrossModal.Search;
using CrossModal.Search.Gallery;
using CrossModal.Search.Hnsw;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Threading;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Features;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal index build` and `crossmodal index append`: encode a precomp split (--data, --split) or image files
/// (--images through --onnx) with a checkpoint and write the gallery index atomically. Append opens an existing
/// index, checks that the checkpoint (and ONNX model) are the ones it was built with, adds the items and
/// rewrites it through a temporary file: a failure at any point leaves the old index as it was.
/// </summary>
internal static class IndexBuildCommand
{
    public static Command Create(bool append)
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = append ? "the checkpoint the index was built with (default: its recorded path; another file is refused)" : "model checkpoint (.safetensors, or an original .pth.tar with --vocab)", Required = !append };
        var vocab = new Option<string?>("--vocab") { Description = "vocabulary JSON for checkpoints that carry none" };
        var data = new Option<string?>("--data") { Description = "precomp data folder ({split}_ims.npy, {split}_caps.txt, {split}_ids.txt)" };
        var split = new Option<string>("--split") { Description = "split of --data", DefaultValueFactory = _ => "test" };
        var imageRoot = new Option<string?>("--image-root") { Description = "with --data: folder of the image files named in {split}_ids.txt (recorded as the items' paths)" };
        var images = new Option<DirectoryInfo?>("--images") { Description = "folder of image files (JPEG/PNG) to encode through --onnx" };
        var list = new Option<FileInfo?>("--list") { Description = "with --images: file names relative to --images, one per line (default: every .jpg/.jpeg/.png, sorted)" };
        var captions = new Option<bool>("--captions") { Description = "also index captions: the split's captions with --data, --caption-file with --images" };
        var captionFile = new Option<FileInfo?>("--caption-file") { Description = "with --images --captions: 5 captions per image, same order as the images" };
        var structure = new Option<string>("--structure") { Description = "search structure: exact, int8 or hnsw", DefaultValueFactory = _ => "exact" };
        var output = new Option<string>(append ? "--index" : "--out") { Description = append ? "the gallery index to append to (rewritten atomically)" : "output gallery index file", Required = true };
        var threads = new Option<int>("--threads") { Description = "worker threads (default: all cores; under mpirun each rank's share of its machine's cores)", DefaultValueFactory = _ => RankSession.DefaultThreads };
        var allowFailures = new Option<bool>("--allow-failures") { Description = "with --images: exit 0 even when some images could not be read (they are listed and skipped)" };
        var pipeline = new ImagePipelineOptions();

        var cmd = append
            ? new Command("append", "Append images (and captions) to a gallery index, encoded with the checkpoint it was built with.")
            : new Command("build", "Encode a gallery (a precomp split, or image files through an ONNX CNN) with a checkpoint into a gallery index file.");
        foreach (var o in new Option[] { checkpoint, vocab, data, split, imageRoot, images, list, captions, captionFile, structure, output, threads, allowFailures }) cmd.Options.Add(o);
        foreach (var o in pipeline.All)
            if (!append || o == pipeline.Onnx) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            using var session = RankSession.Start();
            return session.Run(() => Build(p, session));
        });
        return cmd;

        int Build(ParseResult p, RankSession session)
        {
            Parallelism.Threads = Math.Max(1, p.GetValue(threads));
            string outPath = p.GetValue(output)!;
            string? dataDir = p.GetValue(data);
            var imageDir = p.GetValue(images);
            var clock = System.Diagnostics.Stopwatch.StartNew();

            var ranks = session.Ranks;
            bool root = session.IsRoot;
            var (gallery, model) = Agreement.Run(ranks, () => Open(p, dataDir, imageDir, outPath, ranks.Size, root), opened => opened.Gallery.Dispose());
            using var owned = gallery;
            int exit = 0;
            if (dataDir is not null)
            {
                using var dataset = Agreement.Run(ranks, () => PrecompDataset.Open(dataDir, p.GetValue(split)!, model.Vocabulary), d => d.Dispose());
                GalleryBuilder.AddPrecomp(gallery, model, dataset, p.GetValue(imageRoot), ranks);
                gallery.AddSource($"precomp {Path.GetFullPath(dataDir)} split {p.GetValue(split)}: {dataset.ImageCount} images{(gallery.Captions is null ? "" : $", {dataset.CaptionCount} captions")}");
                if (ranks.Size > 1)
                {
                    // Rank 0 writes (atomically); the others learn whether it could, so a failed write ends every rank with its message.
                    Agreement.Run(ranks, () => { if (root) gallery.Save(outPath); });
                    if (!root) return 0;
                    Console.Error.WriteLine($"index: wrote {outPath}: {gallery.Images.Count} images{(gallery.Captions is null ? "" : $", {gallery.Captions.Count} captions")}, {gallery.Metadata.Structure}, {new FileInfo(outPath).Length / 1e6:F1} MB, {clock.Elapsed.TotalSeconds:F1} s ({ranks.Size} ranks)");
                    return 0;
                }
            }
            else
            {
                var pipe = gallery.Metadata.ImageFeatures ?? throw new ArgumentException($"{outPath}: the index records no image pipeline (it was built from precomp data without --onnx); images cannot be appended.");
                FeatureExtractor extractor;
                try { extractor = pipe.CreateExtractor(outPath, p.GetValue(pipeline.Onnx)?.FullName); }
                catch (NotSupportedException e) { throw new CliException(e.Message); }
                if (!imageDir!.Exists) throw new DirectoryNotFoundException($"Image folder not found: {imageDir.FullName}");
                var names = ListImages(p.GetValue(list), imageDir);
                var paths = names.Select(n => Path.Combine(imageDir.FullName, n)).ToArray();
                string[]? caps = null;
                if (p.GetValue(captions))
                {
                    var capFile = p.GetValue(captionFile) ?? throw new ArgumentException("--images --captions needs --caption-file (5 captions per image).");
                    if (!capFile.Exists) throw new FileNotFoundException($"caption file not found: {capFile.FullName}", capFile.FullName);
                    caps = File.ReadAllLines(capFile.FullName);
                    while (caps.Length > 0 && caps[^1].Trim().Length == 0) caps = caps[..^1];
                    if (caps.Length != 5 * paths.Length) throw new InvalidDataException($"{capFile.FullName}: {caps.Length} captions for {paths.Length} images (5 per image expected).");
                }
                var failures = GalleryBuilder.AddImages(gallery, model, extractor, paths, caps);
                gallery.AddSource($"images {imageDir.FullName}: {paths.Length - failures.Count} images{(caps is null ? "" : $", {5 * (paths.Length - failures.Count)} captions")}");
                if (failures.Count > 0)
                {
                    Console.Error.WriteLine($"index: {failures.Count} image(s) could not be read and were skipped:");
                    foreach (var f in failures) Console.Error.WriteLine($"  {f.Message}");
                    if (!p.GetValue(allowFailures)) exit = CliApp.DataError;
                }
            }
            gallery.Save(outPath);
            Console.Error.WriteLine($"index: wrote {outPath}: {gallery.Images.Count} images{(gallery.Captions is null ? "" : $", {gallery.Captions.Count} captions")}, {gallery.Metadata.Structure}, {new FileInfo(outPath).Length / 1e6:F1} MB, {clock.Elapsed.TotalSeconds:F1} s");
            if (exit != 0) Console.Error.WriteLine("error: some images could not be read (listed above); the others were indexed. Use --allow-failures to exit with 0.");
            return exit;
        }

        // Every rank checks the arguments, loads the checkpoint and creates (or opens) the gallery the same way.
        (GalleryIndex Gallery, ModelHandle Model) Open(ParseResult p, string? dataDir, DirectoryInfo? imageDir, string outPath, int rankCount, bool root)
        {
            if ((dataDir is null) == (imageDir is null)) throw new ArgumentException("Give exactly one source: --data PRECOMP_DIR (with --split) or --images DIR (with --onnx).");
            if (p.GetValue(captionFile) is not null && (imageDir is null || !p.GetValue(captions)))
                throw new ArgumentException("--caption-file goes with --images and --captions.");
            if (rankCount > 1 && (append || imageDir is not null))
                throw new CliException($"{(append ? "index append" : "index build --images")} runs in one process; under mpirun only index build --data shares its encoding among the ranks.");
            GalleryIndex gallery;
            ModelHandle model;
            if (append)
            {
                AtomicFile.RemoveLeftovers(outPath);
                gallery = GalleryIndex.Open(outPath, writable: true);
                model = gallery.LoadModel(p.GetValue(checkpoint), p.GetValue(vocab));
                if (p.GetValue(captions) && gallery.Captions is null) throw new ArgumentException($"{outPath}: the index was built without captions; captions cannot be appended.");
                return (gallery, model);
            }
            string ckpt = p.GetValue(checkpoint)!;
            var identity = CheckpointIdentity.Of(ckpt);
            model = ModelHandle.Load(ckpt, p.GetValue(vocab));
            var kind = p.GetValue(structure) switch
            {
                "exact" => VectorIndexKind.Exact,
                "int8" => VectorIndexKind.Int8,
                "hnsw" => VectorIndexKind.Hnsw,
                var s => throw new ArgumentException($"--structure must be exact, int8 or hnsw, got '{s}'."),
            };
            var imagePipeline = pipeline.Read(p);
            if (imageDir is not null && imagePipeline is null) throw new ArgumentException("--images needs --onnx (the CNN that turns images into features).");
            int regions, dim;
            if (dataDir is not null)
            {
                using var probe = PrecompDataset.Open(dataDir, p.GetValue(split)!, model.Vocabulary);
                (regions, dim) = (probe.Regions, probe.FeatureDim);
            }
            else (regions, dim) = (imagePipeline!.Regions, model.Config.ImgDim);
            gallery = GalleryIndex.Create(model, identity, kind, regions, dim, p.GetValue(captions), imagePipeline, kind == VectorIndexKind.Hnsw ? new HnswOptions() : null);
            if (root)
                Console.Error.WriteLine($"index: {model.Family.Name} model {ckpt}, {(gallery.Metadata.Direct ? "single-vector scores (the index's scores are final)" : $"cross-attention scores (pooled vectors pre-rank, the model re-scores; regions kept as float16)")}{(rankCount > 1 ? $", encoded by {rankCount} ranks" : "")}");
            return (gallery, model);
        }
    }

    private static string[] ListImages(FileInfo? list, DirectoryInfo folder)
    {
        if (list is not null)
        {
            if (!list.Exists) throw new FileNotFoundException($"image list not found: {list.FullName}", list.FullName);
            return File.ReadAllLines(list.FullName).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        }
        var names = folder.EnumerateFiles().Where(f => f.Extension.ToLowerInvariant() is ".jpg" or ".jpeg" or ".png")
            .Select(f => f.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        if (names.Length == 0) throw new InvalidDataException($"{folder.FullName}: no .jpg, .jpeg or .png files.");
        return names;
    }
}
