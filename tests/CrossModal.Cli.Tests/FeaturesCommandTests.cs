using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Cli.Tests;

/// <summary>
/// `crossmodal features` end to end on real Flickr8k JPEGs with SqueezeNet: the precomp layout per split, a corrupt
/// image skipped everywhere and listed, exit codes, and the features against the shipped f8k-fixture40 arrays.
/// </summary>
[Collection("Console")]
public class FeaturesCommandTests
{
    private static readonly string Model = TestData.Path("squeezenet", "SqueezeNet_fp16.onnx");

    private sealed class ImageFolder : IDisposable
    {
        public ImageFolder()
        {
            Directory = System.IO.Directory.CreateTempSubdirectory("cm-features-").FullName;
            Names = File.ReadAllLines(TestData.Path("f8k-fixture40", "images.txt")).Where(l => l.Length > 0).Take(3).ToList();
            foreach (var n in Names) File.Copy(TestData.Path("f8k-fixture40", "images", n), Path.Combine(Directory, n));
            // A JPEG cut in half, listed third.
            File.WriteAllBytes(Path.Combine(Directory, "broken.jpg"), File.ReadAllBytes(Path.Combine(Directory, Names[0])).AsSpan(0, 3000).ToArray());
            Names.Insert(2, "broken.jpg");
            File.WriteAllLines(List, Names);
            File.WriteAllLines(Split, new[] { "train", "test", "train", "none" });
            File.WriteAllLines(Captions, Names.SelectMany(n => Enumerable.Range(0, 5).Select(i => $"caption {i} of {n}")));
        }

        public string Directory { get; }
        public List<string> Names { get; }
        public string List => Path.Combine(Directory, "list.txt");
        public string Split => Path.Combine(Directory, "split.txt");
        public string Captions => Path.Combine(Directory, "captions.txt");
        public string Out => Path.Combine(Directory, "out");

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }

    [Fact]
    public void Should_WritePrecompLayoutPerSplit_SkippingAndListingTheCorruptImage()
    {
        using var f = new ImageFolder();
        var (exit, _, err) = CliRun.Run("features", "--onnx", Model, "--images", f.Directory, "--list", f.List, "--layer", "fire9/concat_1",
            "--grid", "6", "--split", f.Split, "--captions", f.Captions, "--out", f.Out);
        Assert.Equal(1, exit);
        Assert.Contains("broken.jpg", err);
        Assert.Contains("1 of 4 images could not be read", err);

        // 'none' goes to train by default; the broken image (train) is left out of every train file.
        var train = Npy.ReadFloat32(Path.Combine(f.Out, "train_ims.npy"));
        Assert.Equal(new[] { 2, 36, 512 }, train.Shape);
        Assert.Equal(new[] { f.Names[0], f.Names[3] }, File.ReadAllLines(Path.Combine(f.Out, "train_ids.txt")));
        var caps = File.ReadAllLines(Path.Combine(f.Out, "train_caps.txt"));
        Assert.Equal(10, caps.Length);
        Assert.Equal($"caption 0 of {f.Names[3]}", caps[5]);
        Assert.Equal(new[] { 1, 36, 512 }, Npy.ReadFloat32(Path.Combine(f.Out, "test_ims.npy")).Shape);
        Assert.False(File.Exists(Path.Combine(f.Out, "dev_ims.npy")));

        // The first image's features are the shipped ones (fixture40 row 0).
        var expected = Npy.ReadFloat32(TestData.Path("f8k-fixture40", "ims_squeezenet_grid36x512.npy"));
        for (int k = 0; k < 36 * 512; k++)
            Assert.True(Math.Abs(expected[k] - train[k]) <= 1e-3 + 1e-5 * Math.Abs(expected[k]), $"value {k}: {train[k]} vs {expected[k]}");
    }

    [Fact]
    public void Should_ExitWith0_WhenFailuresAreAllowed_AndWriteGlobalFeatures()
    {
        using var f = new ImageFolder();
        string npy = Path.Combine(f.Out, "global.npy");
        var (exit, _, err) = CliRun.Run("features", "--onnx", Model, "--images", f.Directory, "--list", f.List, "--layer", "fire9/concat_1",
            "--global", "--out", npy, "--allow-failures");
        Assert.Equal(0, exit);
        Assert.Contains("broken.jpg", err);
        Assert.Equal(new[] { 3, 512 }, Npy.ReadFloat32(npy).Shape);
        Assert.Equal(f.Names.Where(n => n != "broken.jpg"), File.ReadAllLines(Path.Combine(f.Out, "global_ids.txt")));
    }

    [Fact]
    public void Should_ExitWith1AndSuggestNames_ForAnUnknownLayer()
    {
        using var f = new ImageFolder();
        var (exit, _, err) = CliRun.Run("features", "--onnx", Model, "--images", f.Directory, "--layer", "fire9/concat", "--out", Path.Combine(f.Out, "x.npy"));
        Assert.Equal(1, exit);
        Assert.Contains("fire9/concat_1", err);
        Assert.Single(err.Trim().Split('\n'));
    }
}
