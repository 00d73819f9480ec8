using System.CommandLine;
using System.Globalization;
using CrossModal.Search.Gallery;

namespace CrossModal.Cli.Commands;

/// <summary>The options that describe how images become features (as `crossmodal features` takes them).</summary>
internal sealed class ImagePipelineOptions
{
    public Option<FileInfo?> Onnx { get; } = new("--onnx") { Description = "ONNX CNN for image features (e.g. ../shared/data/squeezenet/SqueezeNet_fp16.onnx); recorded so that query images use the same pipeline" };
    public Option<string> Layer { get; } = new("--layer") { Description = "layer to take features from (N x C x H x W)", DefaultValueFactory = _ => "fire9/concat_1" };
    public Option<int> Grid { get; } = new("--grid") { Description = "pool the map to G x G regions", DefaultValueFactory = _ => 6 };
    public Option<bool> Global { get; } = new("--global") { Description = "one vector per image (mean of the map) instead of a grid" };
    public Option<int> Size { get; } = new("--size") { Description = "network input size", DefaultValueFactory = _ => 224 };
    public Option<bool> Rgb { get; } = new("--rgb") { Description = "feed R, G, B planes (default B, G, R, as SqueezeNet 1.1 expects)" };
    public Option<float> Scale { get; } = new("--scale") { Description = "multiply pixel values 0..255 by this first", DefaultValueFactory = _ => 1f };
    public Option<string> Mean { get; } = new("--mean") { Description = "per-channel mean, fed channel order", DefaultValueFactory = _ => "0,0,0" };
    public Option<string> Std { get; } = new("--std") { Description = "per-channel std, fed channel order", DefaultValueFactory = _ => "1,1,1" };

    public IEnumerable<Option> All => new Option[] { Onnx, Layer, Grid, Global, Size, Rgb, Scale, Mean, Std };

    /// <summary>The pipeline the options describe, or null without --onnx.</summary>
    public ImagePipeline? Read(ParseResult p)
    {
        if (p.GetValue(Onnx) is not { } onnx) return null;
        int grid = p.GetValue(Global) ? 0 : p.GetValue(Grid);
        if (grid <= 0 && !p.GetValue(Global)) throw new ArgumentException($"--grid must be positive, got {p.GetValue(Grid)}.");
        return new ImagePipeline
        {
            Onnx = CheckpointIdentity.Of(onnx.FullName), Layer = p.GetValue(Layer)!, Grid = grid, Size = p.GetValue(Size), Bgr = !p.GetValue(Rgb),
            Scale = p.GetValue(Scale), Mean = Triple(p.GetValue(Mean)!, "--mean"), Std = Triple(p.GetValue(Std)!, "--std"),
        };
    }

    private static float[] Triple(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        if (parts.Length != 3 || !parts.Select((s, i) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])).All(ok => ok))
            throw new ArgumentException($"{option} needs three comma-separated numbers, got '{text}'.");
        return values;
    }
}
