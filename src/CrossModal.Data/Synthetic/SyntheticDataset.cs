using System.Text;
using System.Text.Json;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Threading;
using CrossModal.Text;

namespace CrossModal.Data.Synthetic;

/// <summary>
/// The built-in demo dataset: procedurally generated scenes of 1-5 coloured shapes written as a SCAN precomp folder,
/// so the whole pipeline runs on a fresh machine without downloads. Per split (train/dev/test):
/// <c>{split}_ims.npy</c> (N x 36 x D region features, or N x D with <see cref="SyntheticOptions.GlobalFeatures"/>),
/// <c>{split}_caps.txt</c> (5 templated captions per image), <c>{split}_ids.txt</c>, <c>{split}_scenes.jsonl</c>
/// (the ground truth: objects with colour, shape, size, cell), PNG renderings in <c>images/</c>, and
/// <c>vocab.json</c> (SCAN format, built from train + dev captions with threshold 4).
/// </summary>
/// <remarks>
/// Attribute binding is what the data tests: about half of the multi-object scenes come with a twin that swaps the
/// colours, sizes or shapes of two objects, so twins share their bag of attributes (and hence their mean region
/// feature) and differ only in which attribute belongs to which object - a global model cannot separate them, a
/// model that aligns words with regions can. See <see cref="RegionFeatureModel"/> for the features.
/// Deterministic: every random draw comes from generators derived from the seed, the split and the image index,
/// so results do not depend on the thread count.
/// </remarks>
public static class SyntheticDataset
{
    /// <summary>Split names in generation order.</summary>
    public static IReadOnlyList<string> SplitNames { get; } = ["train", "dev", "test"];

    /// <summary>Writes the dataset to <paramref name="outputDirectory"/> (created if needed; existing files of the same names are replaced).</summary>
    public static SyntheticSummary Generate(string outputDirectory, SyntheticOptions options, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        ArgumentNullException.ThrowIfNull(options);
        var counts = SplitSizes(options);
        var model = new RegionFeatureModel(options.Regions, options.FeatureDim, options.Noise);
        if (options.ImageSize < 16) throw new ArgumentOutOfRangeException(nameof(options), options.ImageSize, "ImageSize must be at least 16 pixels.");
        if (options.TwinFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(options), options.TwinFraction, "TwinFraction must be in [0, 1].");
        Directory.CreateDirectory(outputDirectory);
        if (options.RenderImages) Directory.CreateDirectory(Path.Combine(outputDirectory, "images"));

        int done = 0;
        var captionsForVocabulary = new List<string>();
        var twins = new Dictionary<string, int>();
        for (int s = 0; s < SplitNames.Count; s++)
        {
            string split = SplitNames[s];
            var scenes = SceneSampler.Sample(split, counts[s], options.TwinFraction, new Rng(Derive(options.Seed, 1, (ulong)s, 0)));
            twins[split] = scenes.Count(x => x.TwinOf is not null);
            var captions = new string[scenes.Count][];
            for (int i = 0; i < scenes.Count; i++) captions[i] = CaptionWriter.Write(scenes[i], new Rng(Derive(options.Seed, 2, (ulong)s, (ulong)i)));

            WriteFeatures(Path.Combine(outputDirectory, $"{split}_ims.npy"), scenes, model, options, (ulong)s, cancellationToken);
            AtomicFile.WriteAllText(Path.Combine(outputDirectory, $"{split}_caps.txt"), string.Concat(captions.SelectMany(c => c).Select(c => c + "\n")));
            AtomicFile.WriteAllText(Path.Combine(outputDirectory, $"{split}_ids.txt"), string.Concat(scenes.Select(x => x.Id + "\n")));
            AtomicFile.WriteAllText(Path.Combine(outputDirectory, $"{split}_scenes.jsonl"), SceneJson(scenes));
            if (options.RenderImages)
            {
                Parallelism.For(scenes.Count, 8, (start, end) =>
                {
                    for (int i = start; i < end; i++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var png = PngEncoder.Encode(SceneRenderer.Render(scenes[i], options.ImageSize), options.ImageSize, options.ImageSize);
                        AtomicFile.Write(Path.Combine(outputDirectory, "images", scenes[i].Id + ".png"), st => st.Write(png));
                    }
                });
            }
            if (split != "test") captionsForVocabulary.AddRange(captions.SelectMany(c => c));
            done += scenes.Count;
            progress?.Report(done);
        }

        var vocabulary = Vocabulary.Build(captionsForVocabulary, options.VocabularyThreshold);
        string vocabPath = Path.Combine(outputDirectory, "vocab.json");
        vocabulary.Save(vocabPath);
        AtomicFile.WriteAllText(Path.Combine(outputDirectory, "README.md"), Readme(options, counts, twins, vocabulary.Count));
        var splits = new Dictionary<string, int>();
        for (int s = 0; s < SplitNames.Count; s++) splits[SplitNames[s]] = counts[s];
        return new SyntheticSummary(outputDirectory, splits, twins, vocabPath, vocabulary.Count);
    }

    /// <summary>Images of train, dev and test for <paramref name="options"/>.</summary>
    public static int[] SplitSizes(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int dev = options.DevImages ?? Math.Max(1, options.Images / 10);
        int test = options.TestImages ?? Math.Max(1, options.Images / 10);
        int train = options.Images - dev - test;
        if (dev < 1 || test < 1 || train < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"{options.Images} images cannot be split into train ({train}), dev ({dev}) and test ({test}) with at least one image each.");
        return [train, dev, test];
    }

    // Streams the features in blocks of 64 images, each block computed across the cores.
    private static void WriteFeatures(string path, List<Scene> scenes, RegionFeatureModel model, SyntheticOptions options, ulong split, CancellationToken cancellationToken)
    {
        int r = model.Regions, d = model.Dim;
        int perImage = options.GlobalFeatures ? d : r * d;
        int[] shape = options.GlobalFeatures ? [scenes.Count, d] : [scenes.Count, r, d];
        const int block = 64;
        Npy.WriteStreaming(path, shape, stream =>
        {
            var buffer = new float[block * perImage];
            for (int start = 0; start < scenes.Count; start += block)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(block, scenes.Count - start);
                Parallelism.For(count, 4, (a, b) =>
                {
                    var regions = new float[r * d];
                    for (int i = a; i < b; i++)
                    {
                        int image = start + i;
                        model.Features(scenes[image], new Rng(Derive(options.Seed, 3, split, (ulong)image)), regions);
                        var dst = buffer.AsSpan(i * perImage, perImage);
                        if (!options.GlobalFeatures) regions.CopyTo(dst);
                        else
                        {
                            dst.Clear();
                            for (int k = 0; k < r; k++)
                                for (int j = 0; j < d; j++) dst[j] += regions[k * d + j];
                            for (int j = 0; j < d; j++) dst[j] /= r;
                        }
                    }
                });
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan(0, count * perImage)));
            }
        });
    }

    private static string SceneJson(List<Scene> scenes)
    {
        var sb = new StringBuilder();
        using var ms = new MemoryStream();
        foreach (var scene in scenes)
        {
            ms.SetLength(0);
            using (var w = new Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                w.WriteString("id", scene.Id);
                w.WriteString("background", SceneCatalog.Backgrounds[scene.Background]);
                if (scene.TwinOf is null) w.WriteNull("twin_of");
                else w.WriteString("twin_of", scene.TwinOf);
                if (scene.TwinKind is null) w.WriteNull("swapped");
                else w.WriteString("swapped", scene.TwinKind);
                w.WriteStartArray("objects");
                foreach (var o in scene.Objects)
                {
                    w.WriteStartObject();
                    w.WriteString("color", o.ColorName);
                    w.WriteString("shape", o.ShapeName);
                    w.WriteString("size", o.SizeName);
                    w.WriteNumber("row", o.Row);
                    w.WriteNumber("column", o.Column);
                    w.WriteString("cell", SceneCatalog.CellNames[o.Cell]);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            sb.Append(Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length)).Append('\n');
        }
        return sb.ToString();
    }

    private static string Readme(SyntheticOptions o, int[] counts, Dictionary<string, int> twins, int vocabularySize) =>
        $$"""
        # CrossModal synthetic demo dataset

        Generated by `crossmodal data synth` (seed {{o.Seed}}). A SCAN precomp folder: scenes of 1-5 coloured shapes
        (colours: {{string.Join(", ", SceneCatalog.Colors)}}; shapes: {{string.Join(", ", SceneCatalog.Shapes)}}; sizes: small, large)
        in a 3 x 3 layout on a {{string.Join("/", SceneCatalog.Backgrounds)}} background.

        | split | images | captions | attribute-swapped twins |
        |---|---|---|---|
        | train | {{counts[0]}} | {{counts[0] * 5}} | {{twins["train"]}} |
        | dev | {{counts[1]}} | {{counts[1] * 5}} | {{twins["dev"]}} |
        | test | {{counts[2]}} | {{counts[2] * 5}} | {{twins["test"]}} |

        - `{split}_ims.npy`: float32 {{(o.GlobalFeatures ? $"N x {o.FeatureDim} (mean of {o.Regions} regions)" : $"N x {o.Regions} x {o.FeatureDim} region features")}};
          each object gives 4 noisy proposals = colour + shape + size + position embeddings + noise
          ({{o.Noise}} relative), the other regions show the background; region order is shuffled.
        - `{split}_caps.txt`: 5 templated captions per image (relation, pair, background, list, position).
        - `{split}_ids.txt`, `{split}_scenes.jsonl`: image ids and the ground-truth objects.
        - `images/*.png`: {{o.ImageSize}} x {{o.ImageSize}} renderings{{(o.RenderImages ? "" : " (not written for this run)")}}.
        - `vocab.json`: SCAN vocabulary from the train and dev captions (threshold {{o.VocabularyThreshold}}), {{vocabularySize}} entries.

        A twin repeats the scene before it with the colours, sizes or shapes of two objects swapped: same bag of
        attributes, different binding. Global (mean-pooled) features cannot tell twins apart; word-region alignment can.

        """;

    // SplitMix64 of the seed and three more words: an independent generator per purpose, split and image.
    private static ulong Derive(ulong seed, ulong purpose, ulong split, ulong index)
    {
        ulong h = Mix(seed ^ 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ purpose);
        h = Mix(h ^ split);
        return Mix(h ^ index);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
