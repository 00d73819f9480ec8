using System.CommandLine;
using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Search;
using CrossModal.Search.Gallery;
using CrossModal.Serve;
using CrossModal.Tensors.Threading;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal serve`: the JSON API and web page over a gallery (CrossModal.Serve). The gallery is a gallery index
/// file of `crossmodal index build` (--index), opened with the checkpoint it records (SHA-256 checked, as `crossmodal
/// search` does), or, as a convenience, a precomp split encoded at start-up through the same CrossModal.Search
/// builder into an index held in memory (--checkpoint --data). Bound to loopback unless --host says otherwise;
/// Ctrl+C stops it cleanly.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var index = new Option<string?>("--index") { Description = "gallery index file of `crossmodal index build` (its checkpoint is loaded and checked by SHA-256)" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "with --index: the checkpoint if it moved (must be the recorded one); with --data: the model checkpoint (.safetensors, or an original model_best.pth.tar with --vocab)" };
        var vocab = new Option<string?>("--vocab") { Description = "vocabulary JSON for checkpoints that carry none" };
        var data = new Option<string?>("--data") { Description = "instead of --index: precomp data folder ({split}_ims.npy, {split}_caps.txt, {split}_ids.txt) encoded at start-up" };
        var splits = new Option<string>("--split") { Description = "with --data: split(s) forming the gallery, comma-separated (train,dev,test = all 1,000 f8k-1k images)", DefaultValueFactory = _ => "test" };
        var images = new Option<string?>("--images") { Description = "with --data: folder of the image files named in {split}_ids.txt (thumbnails and the heatmap page)" };
        var onnx = new Option<string?>("--onnx") { Description = "the CNN for image queries: with an index that records one, its new path (SHA-256 checked); otherwise the CNN the gallery's features came from (e.g. ../shared/data/squeezenet/SqueezeNet_fp16.onnx)" };
        var layer = new Option<string>("--layer") { Description = "with --onnx, for a gallery that records no CNN: the value the features were taken from", DefaultValueFactory = _ => "fire9/concat_1" };
        var size = new Option<int>("--size") { Description = "with --onnx, for a gallery that records no CNN: input size (bilinear resize, no crop)", DefaultValueFactory = _ => 224 };
        var rgb = new Option<bool>("--rgb") { Description = "with --onnx, for a gallery that records no CNN: feed R, G, B planes (default B, G, R as SqueezeNet 1.1 expects)" };
        var host = new Option<string>("--host") { Description = "address to listen on (loopback by default; 0.0.0.0 exposes the server to the network)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "port to listen on (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var prerank = new Option<int>("--prerank-k") { Description = "candidates two-stage search re-scores", DefaultValueFactory = _ => 128 };
        var timeout = new Option<double>("--timeout") { Description = "seconds one request may compute before it is stopped (503)", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "cores the model may use per request", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("serve", "Serve a gallery index over HTTP: JSON API (text and image search, thumbnails, attention explanations, OpenAPI) and a web page.");
        foreach (var o in new Option[] { index, checkpoint, vocab, data, splits, images, onnx, layer, size, rgb, host, port, prerank, timeout, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            Parallelism.Threads = Math.Max(1, p.GetValue(threads));
            if (p.GetValue(port) is < 0 or > 65535) throw new ArgumentException($"--port must be 0..65535, got {p.GetValue(port)}.");
            if (p.GetValue(timeout) <= 0) throw new ArgumentException($"--timeout must be positive, got {p.GetValue(timeout)}.");
            string? indexPath = p.GetValue(index), dataDir = p.GetValue(data);
            if ((indexPath is null) == (dataDir is null)) throw new ArgumentException("Give exactly one gallery: --index GALLERY.index (from crossmodal index build), or --checkpoint MODEL --data PRECOMP_DIR.");
            if (indexPath is not null && p.GetValue(images) is not null) throw new ArgumentException("--images goes with --data; an index records its images' paths (crossmodal index build --image-root).");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var gallery = indexPath is not null
                ? Gallery.Open(indexPath, p.GetValue(checkpoint), p.GetValue(vocab))
                : BuildInMemory(p.GetValue(checkpoint) ?? throw new ArgumentException("--data needs --checkpoint (the model that encodes the gallery)."),
                    p.GetValue(vocab), dataDir!, p.GetValue(splits)!, p.GetValue(images));
            double gallerySeconds = clock.Elapsed.TotalSeconds;
            ImageQueryEncoder? encoder;
            try
            {
                encoder = gallery.Index.Metadata.ImageFeatures is { } pipeline
                    ? ImageQueryEncoder.FromPipeline(pipeline, gallery.Index.Source, p.GetValue(onnx))
                    : p.GetValue(onnx) is { } onnxPath
                        ? new ImageQueryEncoder(CnnRuntime.Load(onnxPath), p.GetValue(layer)!, new ImagePreprocessing(p.GetValue(size), p.GetValue(size), !p.GetValue(rgb), 1f, [0f, 0f, 0f], [1f, 1f, 1f]))
                        : null;
            }
            catch (NotSupportedException e) { throw new CliException(e.Message); }
            var options = new ServeOptions { PrerankK = Math.Max(1, p.GetValue(prerank)), RequestTimeout = TimeSpan.FromSeconds(p.GetValue(timeout)) };
            var service = new SearchService(gallery, options, encoder);
            string address = p.GetValue(host)!;
            string url = $"http://{(address.Contains(':') ? $"[{address}]" : address)}:{p.GetValue(port)}";
            var app = ServeApp.Create(service, b => b.WebHost.UseUrls(url));
            var urls = ServeApp.StartAsync(app).GetAwaiter().GetResult();
            Console.Error.WriteLine($"serve: {gallery.Description}; ready in {clock.Elapsed.TotalSeconds:F1} s (gallery and model {gallerySeconds:F1} s)" +
                (gallery.Captions.Count > 0 ? " (captions for image search load in the background)" : " (no captions: image search is off)"));
            if (Enumerable.Range(0, gallery.Items.Count).All(i => gallery.ImagePath(i) is null)) Console.Error.WriteLine("serve: the gallery records no image files: the page shows no thumbnails or heatmaps.");
            if (encoder is null) Console.Error.WriteLine("serve: no CNN (the index records none and --onnx was not given): image search is off.");
            if (address is not ("127.0.0.1" or "localhost" or "::1"))
                Console.Error.WriteLine($"serve: listening on {address}, which other machines may reach; the server has no authentication.");
            foreach (var u in urls) Console.Error.WriteLine($"serve: listening on {u}/ (API description: {u}/openapi/v1.json); Ctrl+C stops");
            app.WaitForShutdownAsync().GetAwaiter().GetResult();
            Console.Error.WriteLine("serve: stopped");
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// The convenience form: the splits encoded by the checkpoint into a gallery index held in memory, through
    /// CrossModal.Search's builder (exactly what `crossmodal index build --data ... --captions` writes to a file).
    /// </summary>
    private static Gallery BuildInMemory(string checkpoint, string? vocab, string dataDir, string splitList, string? imageRoot)
    {
        var splitNames = splitList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (splitNames.Length == 0) throw new ArgumentException("--split names no split.");
        if (imageRoot is not null && !Directory.Exists(imageRoot)) throw new DirectoryNotFoundException($"Image folder not found: {imageRoot}");
        var identity = CheckpointIdentity.Of(checkpoint);
        var model = ModelHandle.Load(checkpoint, vocab);
        int regions, dim;
        using (var probe = PrecompDataset.Open(dataDir, splitNames[0], model.Vocabulary)) (regions, dim) = (probe.Regions, probe.FeatureDim);
        var index = GalleryIndex.Create(model, identity, VectorIndexKind.Exact, regions, dim, withCaptions: true);
        try
        {
            foreach (var split in splitNames)
            {
                using var dataset = PrecompDataset.Open(dataDir, split, model.Vocabulary);
                GalleryBuilder.AddPrecomp(index, model, dataset, imageRoot);
                index.AddSource($"precomp {Path.GetFullPath(dataDir)} split {split}");
            }
            return Gallery.FromIndex(index, model, $"{model.Family.Name} model {model.Source}; {index.Images.Count} images of {dataDir} ({string.Join(", ", splitNames)}), encoded at start-up");
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }
}
