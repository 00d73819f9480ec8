using System.Text;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;

namespace CrossModal.Tests;

/// <summary>
/// A small learnable precomp folder (train/dev/test) in the temp directory: each image has a colour and a shape;
/// its features are a noisy code of both and its captions name them ("a red circle ."), so a model can learn to
/// match. Deleted on dispose.
/// </summary>
internal sealed class TinyPrecomp : IDisposable
{
    private static readonly string[] Colours = { "red", "green", "blue", "yellow" };
    private static readonly string[] Shapes = { "circle", "square", "star" };

    public TinyPrecomp(int trainImages = 24, int devImages = 6, int testImages = 6, int regions = 0, int dim = 8, ulong seed = 1)
    {
        Directory = Path.Combine(Path.GetTempPath(), $"crossmodal-tiny-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        var rng = new Rng(seed);
        var vocabWords = new List<string>();
        foreach (var (split, n) in new[] { ("train", trainImages), ("dev", devImages), ("test", testImages) })
        {
            int r = Math.Max(1, regions);
            var features = new float[n * r * dim];
            var captions = new List<string>();
            for (int i = 0; i < n; i++)
            {
                int c = rng.NextInt(Colours.Length), s = rng.NextInt(Shapes.Length);
                for (int k = 0; k < r * dim; k++) features[i * r * dim + k] = 0.3f * (rng.NextFloat() - 0.5f);
                for (int k = 0; k < r; k++)
                {
                    features[(i * r + k) * dim + c] += 1f;
                    features[(i * r + k) * dim + Colours.Length + s % (dim - Colours.Length)] += 1f;
                }
                for (int j = 0; j < 5; j++)
                    captions.Add(j % 2 == 0 ? $"a {Colours[c]} {Shapes[s]} ." : $"the {Shapes[s]} is {Colours[c]}");
            }
            Npy.Write(System.IO.Path.Combine(Directory, $"{split}_ims.npy"), features, regions > 0 ? new[] { n, regions, dim } : new[] { n, dim });
            File.WriteAllText(System.IO.Path.Combine(Directory, $"{split}_caps.txt"), string.Concat(captions.Select(l => l + "\n")), new UTF8Encoding(false));
        }
        VocabJson = BuildVocabJson();
        VocabPath = System.IO.Path.Combine(Directory, "vocab.json");
        File.WriteAllText(VocabPath, VocabJson, new UTF8Encoding(false));
    }

    public string Directory { get; }

    public string VocabPath { get; }

    public string VocabJson { get; }

    private static string BuildVocabJson()
    {
        var words = new[] { "<pad>", "<start>", "<end>", "<unk>", "a", ".", "the", "is" }.Concat(Colours).Concat(Shapes).ToArray();
        var w2i = string.Join(", ", words.Select((w, i) => $"\"{w}\": {i}"));
        var i2w = string.Join(", ", words.Select((w, i) => $"\"{i}\": \"{w}\""));
        return $"{{\"idx2word\": {{{i2w}}}, \"word2idx\": {{{w2i}}}, \"idx\": {words.Length}}}";
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
