using System.CommandLine;
using CrossModal.Data.Synthetic;

namespace CrossModal.Cli.Commands;

/// <summary>`crossmodal data synth --out DIR --images N --seed S`: writes the built-in demo dataset.</summary>
internal static class DataSynthCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output folder (SCAN precomp layout).", Required = true };
        var images = new Option<int>("--images") { Description = "Images over all splits (10% dev, 10% test).", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed; the same seed and options give identical files.", DefaultValueFactory = _ => 1 };
        var regions = new Option<int>("--regions") { Description = "Regions per image.", DefaultValueFactory = _ => 36 };
        var dim = new Option<int>("--dim") { Description = "Feature size per region.", DefaultValueFactory = _ => 256 };
        var global = new Option<bool>("--global") { Description = "Write one mean feature per image (N x D) instead of regions." };
        var noImages = new Option<bool>("--no-images") { Description = "Skip the PNG renderings." };
        var imageSize = new Option<int>("--image-size") { Description = "Side of the PNG renderings in pixels.", DefaultValueFactory = _ => 192 };
        var noise = new Option<float>("--noise") { Description = "Feature noise relative to an attribute embedding.", DefaultValueFactory = _ => 0.5f };
        var twins = new Option<double>("--twins") { Description = "Probability that a multi-object scene gets an attribute-swapped twin.", DefaultValueFactory = _ => 0.5 };
        var dev = new Option<int?>("--dev-images") { Description = "Dev images (default 10%)." };
        var test = new Option<int?>("--test-images") { Description = "Test images (default 10%)." };

        var cmd = new Command("synth", "Generate the synthetic demo dataset: scenes of coloured shapes, region features, captions, PNGs, vocabulary.");
        foreach (var o in new Option[] { output, images, seed, regions, dim, global, noImages, imageSize, noise, twins, dev, test }) cmd.Options.Add(o);
        cmd.SetAction((parse, cancellationToken) =>
        {
            var options = new SyntheticOptions
            {
                Images = parse.GetValue(images),
                Seed = parse.GetValue(seed),
                Regions = parse.GetValue(regions),
                FeatureDim = parse.GetValue(dim),
                GlobalFeatures = parse.GetValue(global),
                RenderImages = !parse.GetValue(noImages),
                ImageSize = parse.GetValue(imageSize),
                Noise = parse.GetValue(noise),
                TwinFraction = parse.GetValue(twins),
                DevImages = parse.GetValue(dev),
                TestImages = parse.GetValue(test),
            };
            string dir = parse.GetValue(output)!;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var summary = SyntheticDataset.Generate(dir, options, cancellationToken: cancellationToken);
            foreach (var (split, n) in summary.Splits)
                Console.WriteLine($"{split}: {n} images ({summary.Twins[split]} attribute-swapped twins), {n * 5} captions");
            Console.WriteLine($"vocabulary: {summary.VocabularySize} entries -> {summary.VocabularyPath}");
            Console.WriteLine($"wrote {Path.GetFullPath(dir)} in {sw.Elapsed.TotalSeconds:F1} s");
            return Task.FromResult(0);
        });
        return cmd;
    }
}
