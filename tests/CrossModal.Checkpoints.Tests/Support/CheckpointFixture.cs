using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Checkpoints.Tests.Support;

/// <summary>
/// One reference model of tests/fixtures/checkpoints (written by tools/reference/checkpoint_fixtures.py): its
/// checkpoint files, the evaluation inputs (6 f8k test images x their 30 captions, real features and NLTK-tokenised
/// captions) and what PyTorch computed from them (encoder outputs and the float64 similarity matrix).
/// A model test needs only: load <see cref="ZipPath"/> (or <see cref="LegacyPath"/>), encode <see cref="Images"/>
/// and <see cref="CaptionIds"/>/<see cref="CaptionLengths"/>, score, and compare with <see cref="Sims"/> (1e-4).
/// </summary>
internal sealed class CheckpointFixture
{
    private CheckpointFixture(string name, string section)
    {
        Name = name;
        var model = CheckpointManifest.Root.GetProperty(section).GetProperty(name);
        Method = model.GetProperty("method").GetString()!;
        FeatureFolder = model.GetProperty("features").GetString()!;
    }

    /// <summary>The fixture names: vsepp, vsepp_order, vse0, scan_t2i_lse, scan_t2i_mean, scan_i2t_lse, scan_i2t_mean.</summary>
    public static IReadOnlyList<string> Names =>
        CheckpointManifest.Root.GetProperty("models").EnumerateObject().Select(p => p.Name).ToList();

    /// <summary>A model of the manifest's <paramref name="section"/> ("models"; NAAF's and VSRN's are in "naaf_models", "vsrn_models").</summary>
    public static CheckpointFixture Get(string name, string section = "models") => new(name, section);

    /// <summary>The names in a section of the manifest other than "models".</summary>
    public static IReadOnlyList<string> NamesIn(string section) =>
        CheckpointManifest.Root.GetProperty(section).EnumerateObject().Select(p => p.Name).ToList();

    public string Name { get; }

    /// <summary>"vsepp" or "scan".</summary>
    public string Method { get; }

    /// <summary>"f8k-1k-precomp-global" (VSE++, [N, 512]) or "f8k-1k-precomp" (SCAN, [N, 36, 512]).</summary>
    public string FeatureFolder { get; }

    public string ZipPath => CheckpointManifest.PathOf($"{Name}/{Name}.zip.pth.tar");

    public string LegacyPath => CheckpointManifest.PathOf($"{Name}/{Name}.legacy.pth.tar");

    /// <summary>Rows of test_ims.npy used as the 6 images.</summary>
    public static long[] ImageIndices => Npy.ReadInt64(CheckpointManifest.PathOf("inputs/image_indices.npy")).Values;

    /// <summary>Token ids [30, L] (&lt;start&gt; ... &lt;end&gt;, zero-padded), captions 5i..5i+4 belong to image i.</summary>
    public static int[][] CaptionIds
    {
        get
        {
            var (values, shape) = Npy.ReadInt64(CheckpointManifest.PathOf("inputs/caption_ids.npy"));
            return Enumerable.Range(0, shape[0]).Select(r => values.Skip(r * shape[1]).Take(shape[1]).Select(v => (int)v).ToArray()).ToArray();
        }
    }

    /// <summary>True caption lengths (tokens + 2).</summary>
    public static int[] CaptionLengths => Npy.ReadInt64(CheckpointManifest.PathOf("inputs/caption_lengths.npy")).Values.Select(v => (int)v).ToArray();

    /// <summary>The 6 images' features from the shared data: [6, 512] or [6, 36, 512].</summary>
    public Tensor Images()
    {
        var all = Npy.ReadFloat32(TestData.Path(FeatureFolder, "test_ims.npy"));
        int rowLength = all.Length / all.Dim(0);
        var indices = ImageIndices;
        var data = new float[indices.Length * rowLength];
        for (int i = 0; i < indices.Length; i++) all.Data.Slice((int)indices[i] * rowLength, rowLength).CopyTo(data.AsSpan(i * rowLength));
        var shape = all.Shape;
        shape[0] = indices.Length;
        return Tensor.FromArray(data, shape);
    }

    /// <summary>PyTorch's image encoder output: [6, E] or [6, 36, E].</summary>
    public Tensor ImageEmbeddings => Npy.ReadFloat32(CheckpointManifest.PathOf($"{Name}/img_emb.npy"));

    /// <summary>PyTorch's text encoder output: [30, E] (VSE++) or [30, L, E] zero beyond each length (SCAN).</summary>
    public Tensor CaptionEmbeddings => Npy.ReadFloat32(CheckpointManifest.PathOf($"{Name}/cap_emb.npy"));

    /// <summary>The similarity matrix [6 images, 30 captions] (float64) as the original evaluation computes it.</summary>
    public (double[] Values, int[] Shape) Sims => Npy.ReadFloat64(CheckpointManifest.PathOf($"{Name}/sims.npy"));
}
