using System.CommandLine;
using CrossModal.Models;
using CrossModal.Serve;
using CrossModal.Tensors.Threading;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal serve`: the JSON API and web page over a gallery (CrossModal.Serve). The gallery is encoded at
/// start-up from precomp data and a checkpoint (images first, captions in the background); bound to loopback
/// unless --host says otherwise; Ctrl+C stops it cleanly.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "model checkpoint (.safetensors, or an original model_best.pth.tar with --vocab)", Required = true };
        var vocab = new Option<string?>("--vocab") { Description = "vocabulary JSON for checkpoints that carry none" };
        var data = new Option<string>("--data") { Description = "precomp data folder holding the gallery ({split}_ims.npy, {split}_caps.txt, {split}_ids.txt)", Required = true };
        var splits = new Option<string>("--split") { Description = "split(s) forming the gallery, comma-separated (train,dev,test = all 1,000 f8k-1k images)", DefaultValueFactory = _ => "test" };
        var images = new Option<string?>("--images") { Description = "folder of the image files named in {split}_ids.txt (thumbnails and the heatmap page)" };
        var onnx = new Option<string?>("--onnx") { Description = "the CNN the gallery's features came from, for image queries (e.g. ../shared/data/squeezenet/SqueezeNet_fp16.onnx)" };
        var layer = new Option<string>("--layer") { Description = "the CNN value the features were taken from", DefaultValueFactory = _ => "fire9/concat_1" };
        var size = new Option<int>("--size") { Description = "CNN input size (bilinear resize, no crop)", DefaultValueFactory = _ => 224 };
        var rgb = new Option<bool>("--rgb") { Description = "feed R, G, B planes (default B, G, R as SqueezeNet 1.1 expects)" };
        var host = new Option<string>("--host") { Description = "address to listen on (loopback by default; 0.0.0.0 exposes the server to the network)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "port to listen on (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var prerank = new Option<int>("--prerank-k") { Description = "candidates two-stage search re-scores", DefaultValueFactory = _ => 128 };
        var timeout = new Option<double>("--timeout") { Description = "seconds one request may compute before it is stopped (503)", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "cores the model may use per request", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("serve", "Serve a gallery over HTTP: JSON API (text and image search, thumbnails, attention explanations, OpenAPI) and a web page.");
        foreach (var o in new Option[] { checkpoint, vocab, data, splits, images, onnx, layer, size, rgb, host, port, prerank, timeout, threads }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            Parallelism.Threads = Math.Max(1, p.GetValue(threads));
            if (p.GetValue(port) is < 0 or > 65535) throw new ArgumentException($"--port must be 0..65535, got {p.GetValue(port)}.");
            if (p.GetValue(timeout) <= 0) throw new ArgumentException($"--timeout must be positive, got {p.GetValue(timeout)}.");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var model = ModelHandle.Load(p.GetValue(checkpoint)!, p.GetValue(vocab));
            ImageQueryEncoder? encoder = null;
            if (p.GetValue(onnx) is { } onnxPath)
            {
                CnnRuntime runtime;
                try { runtime = CnnRuntime.Load(onnxPath); }
                catch (NotSupportedException e) { throw new CliException(e.Message); }
                int s = p.GetValue(size);
                encoder = new ImageQueryEncoder(runtime, p.GetValue(layer)!, new ImagePreprocessing(s, s, !p.GetValue(rgb), 1f, [0f, 0f, 0f], [1f, 1f, 1f]));
            }
            var splitNames = p.GetValue(splits)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            using var gallery = GalleryBuilder.FromPrecomp(model, p.GetValue(data)!, splitNames, p.GetValue(images));
            var options = new ServeOptions { PrerankK = Math.Max(1, p.GetValue(prerank)), RequestTimeout = TimeSpan.FromSeconds(p.GetValue(timeout)) };
            var service = new SearchService(gallery, options, encoder);
            string address = p.GetValue(host)!;
            string url = $"http://{(address.Contains(':') ? $"[{address}]" : address)}:{p.GetValue(port)}";
            var app = ServeApp.Create(service, b => b.WebHost.UseUrls(url));
            var urls = ServeApp.StartAsync(app).GetAwaiter().GetResult();
            Console.Error.WriteLine($"serve: {gallery.Description}; ready in {clock.Elapsed.TotalSeconds:F1} s (captions for image search encode in the background)");
            if (gallery.Items.All(i => i.ImagePath is null)) Console.Error.WriteLine("serve: no image files (--images): the page shows no thumbnails or heatmaps.");
            if (address is not ("127.0.0.1" or "localhost" or "::1"))
                Console.Error.WriteLine($"serve: listening on {address}, which other machines may reach; the server has no authentication.");
            foreach (var u in urls) Console.Error.WriteLine($"serve: listening on {u}/ (API description: {u}/openapi/v1.json); Ctrl+C stops");
            app.WaitForShutdownAsync().GetAwaiter().GetResult();
            Console.Error.WriteLine("serve: stopped");
            return 0;
        });
        return cmd;
    }
}
