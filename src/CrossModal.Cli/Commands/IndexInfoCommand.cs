using System.CommandLine;
using CrossModal.Search.Gallery;

namespace CrossModal.Cli.Commands;

/// <summary>`crossmodal index info`: what a gallery index holds (model, pipeline, counts, sections).</summary>
internal static class IndexInfoCommand
{
    public static Command Create()
    {
        var index = new Option<string>("--index") { Description = "gallery index file", Required = true };
        var cmd = new Command("info", "Describe a gallery index: checkpoint, structure, items, sections.");
        cmd.Options.Add(index);
        cmd.SetAction(p =>
        {
            string path = p.GetValue(index)!;
            using var gallery = GalleryIndex.Open(path);
            var m = gallery.Metadata;
            Console.WriteLine($"{path}: {new FileInfo(path).Length / 1e6:F1} MB");
            Console.WriteLine($"  checkpoint {m.Checkpoint.Path} (sha256 {m.Checkpoint.Sha256[..16]}...), {m.Family}, embed size {m.EmbedSize}");
            Console.WriteLine($"  scores: {(m.Direct ? "single vectors (inner products are the model's scores)" : "cross attention (pooled vectors pre-rank, the model re-scores from float16 row sets)")}");
            Console.WriteLine($"  structure {m.Structure}; input features {(m.FeatureRegions > 0 ? $"{m.FeatureRegions} x " : "")}{m.FeatureDim}");
            Console.WriteLine(m.ImageFeatures is { } f
                ? $"  image queries: {f.Onnx.Path} layer {f.Layer}, {(f.Grid > 0 ? $"grid {f.Grid}" : "global")}, {f.Size} px, {(f.Bgr ? "BGR" : "RGB")}"
                : "  image queries: none (built without --onnx)");
            Console.WriteLine($"  {gallery.Images.Count} images, {gallery.Captions?.Count.ToString() ?? "no"} captions");
            foreach (var s in m.Sources) Console.WriteLine($"  added: {s}");
            foreach (var (name, s) in m.Sections) Console.WriteLine($"  section {name}: {s.Length / 1e6:F2} MB at {s.Offset}");
            return 0;
        });
        return cmd;
    }
}
