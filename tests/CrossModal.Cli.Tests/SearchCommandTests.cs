using System.Text.Json;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Cli.Tests;

/// <summary>
/// `crossmodal index build/append/info` and `crossmodal search` end to end on real Flickr8k data: a gallery from
/// JPEGs through SqueezeNet and one from the precomp split made from the same JPEGs must agree (an image query finds
/// itself at cosine 1 in both), and every bad input is one clear error with exit code 1 and no damage.
/// </summary>
[Collection("Console")]
public sealed class SearchCommandTests : IDisposable
{
    private static readonly string Onnx = TestData.Path("squeezenet", "SqueezeNet_fp16.onnx");
    private static readonly string Images = TestData.Path("f8k-1k", "images");
    private readonly TempFolder _dir = new("cm-search-");
    private readonly string _checkpoint;
    private readonly string[] _names;

    public SearchCommandTests()
    {
        // An untrained VSE++ model over the F8K vocabulary and 512-d SqueezeNet regions: the ranking only needs to vary.
        string vocabJson = File.ReadAllText(TestData.Path("vocab", "f8k_precomp_vocab.json"));
        var vocab = Vocabulary.FromJson(vocabJson, "f8k vocab");
        var config = new VseConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = vocab.Count };
        _checkpoint = _dir.File("model.safetensors");
        ModelFile.Save(_checkpoint, config.Family.Create(config, new Rng(3)), vocabJson);
        _names = File.ReadAllLines(TestData.Path("f8k-1k-precomp", "test_ids.txt")).Take(6).ToArray();
        File.WriteAllLines(_dir.File("list.txt"), _names[..4]);
        File.WriteAllLines(_dir.File("more.txt"), _names[4..]);
    }

    public void Dispose() => _dir.Dispose();

    private string BuildFromImages(string list = "list.txt")
    {
        string index = _dir.File("images.index");
        var (exit, _, err) = CliRun.Run("index", "build", "--checkpoint", _checkpoint, "--images", Images, "--list", _dir.File(list), "--onnx", Onnx, "--out", index);
        Assert.True(exit == 0, err);
        return index;
    }

    [Fact]
    public void Should_FindAQueryImage_InGalleriesBuiltFromImagesAndFromPrecomp()
    {
        string fromImages = BuildFromImages();
        string fromPrecomp = _dir.File("precomp.index");
        var (exit, _, err) = CliRun.Run("index", "build", "--checkpoint", _checkpoint, "--data", TestData.Path("f8k-1k-precomp"), "--split", "test",
            "--image-root", Images, "--captions", "--onnx", Onnx, "--out", fromPrecomp);
        Assert.True(exit == 0, err);
        string query = Path.Combine(Images, _names[2]);
        foreach (var index in new[] { fromImages, fromPrecomp })
        {
            (exit, string output, err) = CliRun.Run("search", "--index", index, "--image", query, "--k", "3", "--json");
            Assert.True(exit == 0, err);
            var results = JsonDocument.Parse(output).RootElement.GetProperty("results");
            Assert.Equal(3, results.GetArrayLength());
            Assert.Equal(_names[2], results[0].GetProperty("id").GetString());
            Assert.Equal(Path.GetFullPath(query), results[0].GetProperty("path").GetString());
            // The JPEG -> SqueezeNet -> grid path reproduces the shipped precomp features (cosine 0.99999999999).
            Assert.Equal(1.0, results[0].GetProperty("score").GetDouble(), 1e-4);
        }
        // Text queries: ranked ids and scores; unknown words named with what they become.
        (exit, string text, err) = CliRun.Run("search", "--index", fromPrecomp, "--text", "two dogs run on the beach qwzx", "--k", "125");
        Assert.True(exit == 0, err);
        Assert.Equal(125, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("unknown word 'qwzx'", err);
        Assert.Contains("<unk>", err);
        (exit, text, err) = CliRun.Run("search", "--index", fromPrecomp, "--image", query, "--target", "captions", "--k", "2");
        Assert.True(exit == 0, err);
        Assert.Equal(2, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Should_AppendImages_AndRefuseAnotherCheckpoint()
    {
        string index = BuildFromImages();
        var (exit, _, err) = CliRun.Run("index", "append", "--index", index, "--images", Images, "--list", _dir.File("more.txt"));
        Assert.True(exit == 0, err);
        (exit, string info, err) = CliRun.Run("index", "info", "--index", index);
        Assert.True(exit == 0, err);
        Assert.Contains("6 images", info);
        (exit, string found, err) = CliRun.Run("search", "--index", index, "--image", Path.Combine(Images, _names[5]), "--k", "1");
        Assert.True(exit == 0, err);
        Assert.Contains(_names[5], found);

        string other = _dir.File("other.safetensors");
        File.Copy(_checkpoint, other);
        File.AppendAllText(other, "x"); // one byte more: another file
        var before = File.ReadAllBytes(index);
        (exit, _, err) = CliRun.Run("index", "append", "--index", index, "--checkpoint", other, "--images", Images, "--list", _dir.File("more.txt"));
        Assert.Equal(1, exit);
        Assert.Contains("sha256", err);
        (exit, _, err) = CliRun.Run("search", "--index", index, "--checkpoint", other, "--text", "a dog");
        Assert.Equal(1, exit);
        Assert.Contains("was built with the checkpoint", err);
        // A failed append (features of the wrong width) leaves the index as it was.
        (exit, _, err) = CliRun.Run("index", "append", "--index", index, "--data", TestData.Path("f8k-1k-precomp-global"), "--split", "test");
        Assert.Equal(1, exit);
        Assert.Contains("features of 512 per image", err);
        Assert.Equal(before, File.ReadAllBytes(index));
    }

    [Fact]
    public void Should_GiveOneClearError_ForBadInput()
    {
        string index = BuildFromImages();
        File.WriteAllText(_dir.File("notes.jpg"), "not an image");
        var cases = new (string[] Args, string Expected)[]
        {
            (["search", "--index", index, "--image", _dir.File("notes.jpg")], "could not be read as an image"),
            (["search", "--index", index, "--text", "a dog", "--k", "0"], "--k must be at least 1"),
            (["search", "--index", index, "--text", " "], "The text query is empty"),
            (["search", "--index", _checkpoint, "--text", "a dog"], "not a CrossModal gallery index"),
            (["search", "--index", index], "exactly one query"),
        };
        foreach (var (args, expected) in cases)
        {
            var (exit, _, err) = CliRun.Run(args);
            Assert.Equal(1, exit);
            Assert.Contains(expected, err);
            Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        var bytes = File.ReadAllBytes(index);
        File.WriteAllBytes(_dir.File("cut.index"), bytes[..(bytes.Length / 2)]);
        var (code, _, message) = CliRun.Run("search", "--index", _dir.File("cut.index"), "--text", "a dog");
        Assert.Equal(1, code);
        Assert.Contains("truncated", message);
        Assert.Contains("cut.index", message);
    }
}
