using System.Text;
using CrossModal.Tensors.IO;

namespace CrossModal.Data.Tests;

/// <summary>A throw-away precomp folder in the temp directory, deleted on dispose.</summary>
internal sealed class TempPrecomp : IDisposable
{
    public TempPrecomp()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"crossmodal-precomp-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    /// <summary>Opens a split of this folder (test-cancellable).</summary>
    public PrecompDataset Open(string split, CrossModal.Text.Vocabulary vocabulary, int? maxCaptions = null, bool checkFeatures = true) =>
        PrecompDataset.Open(Directory, split, vocabulary, maxCaptions, checkFeatures, TestContext.Current.CancellationToken);

    public string PathOf(string file) => Path.Combine(Directory, file);

    /// <summary>Features whose value at [image, region, d] is image + region/100 + d/10000 (easy to check).</summary>
    public static float[] Features(int images, int regions, int dim)
    {
        var f = new float[images * Math.Max(1, regions) * dim];
        int i = 0;
        for (int n = 0; n < images; n++)
            for (int r = 0; r < Math.Max(1, regions); r++)
                for (int d = 0; d < dim; d++)
                    f[i++] = Value(n, r, d);
        return f;
    }

    /// <summary>The generated feature value at [image, region, d].</summary>
    public static float Value(int image, int region, int d) => image + region / 100f + d / 10000f;

    public void WriteFeatures(string split, float[] values, params int[] shape) => Npy.Write(PathOf($"{split}_ims.npy"), values, shape);

    public void WriteCaptions(string split, IEnumerable<string> lines) =>
        File.WriteAllText(PathOf($"{split}_caps.txt"), string.Concat(lines.Select(l => l + "\n")), new UTF8Encoding(false));

    public void WriteIds(string split, IEnumerable<string> lines) =>
        File.WriteAllText(PathOf($"{split}_ids.txt"), string.Concat(lines.Select(l => l + "\n")));

    /// <summary>A split of <paramref name="images"/> images with 5 captions each of varying length.</summary>
    public void WriteSplit(string split, int images, int regions, int dim, bool ids = true)
    {
        var shape = regions > 0 ? new[] { images, regions, dim } : new[] { images, dim };
        WriteFeatures(split, Features(images, regions, dim), shape);
        WriteCaptions(split, Enumerable.Range(0, images * 5).Select(Caption));
        if (ids) WriteIds(split, Enumerable.Range(0, images).Select(i => $"img{i}.jpg"));
    }

    /// <summary>Caption k: "a dog" followed by (k * 7 % 4) extra words, so lengths vary and tie.</summary>
    public static string Caption(int k) => "A dog" + string.Concat(Enumerable.Repeat(" runs", k * 7 % 4)) + " .";

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
