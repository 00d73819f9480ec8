using System.Text.Json;
using System.Text.RegularExpressions;
using CrossModal.Data.Synthetic;
using CrossModal.Tensors.IO;
using CrossModal.Text;

namespace CrossModal.Data.Tests.Synthetic;

/// <summary>
/// The demo dataset: determinism, the precomp layout, captions that are true of the ground-truth scenes (checked
/// by an independent parser of the caption grammar), and twins that differ only in attribute binding.
/// </summary>
public sealed partial class SyntheticDatasetTests
{
    private static readonly SyntheticOptions Small = new() { Images = 60, Seed = 11, FeatureDim = 16, ImageSize = 48 };

    private static SyntheticSummary Generate(string dir, SyntheticOptions options) =>
        SyntheticDataset.Generate(dir, options, cancellationToken: TestContext.Current.CancellationToken);

    [Fact]
    public void Should_WriteIdenticalFiles_ForTheSameSeed_AndDifferentOnesForAnother()
    {
        using var a = new TempPrecomp();
        using var b = new TempPrecomp();
        using var c = new TempPrecomp();
        Generate(a.Directory, Small);
        Generate(b.Directory, Small);
        Generate(c.Directory, Small with { Seed = 12 });
        var files = Directory.GetFiles(a.Directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a.Directory, f)).Order().ToArray();
        Assert.Equal(files, Directory.GetFiles(b.Directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b.Directory, f)).Order());
        Assert.True(files.Length > 60);
        foreach (var f in files) Assert.True(File.ReadAllBytes(a.PathOf(f)).AsSpan().SequenceEqual(File.ReadAllBytes(b.PathOf(f))), $"{f} differs between two runs with the same seed");
        foreach (var f in new[] { "train_ims.npy", "train_caps.txt", "test_scenes.jsonl" })
            Assert.False(File.ReadAllBytes(a.PathOf(f)).AsSpan().SequenceEqual(File.ReadAllBytes(c.PathOf(f))), $"{f} is the same for seeds 11 and 12");
    }

    [Fact]
    public void Should_WriteTheScanPrecompLayout_ThatPrecompDatasetOpens()
    {
        using var dir = new TempPrecomp();
        // Threshold 1: every word of the train and dev captions gets an id (60 images are too few for threshold 4).
        var summary = Generate(dir.Directory, Small with { VocabularyThreshold = 1 });
        Assert.Equal(new Dictionary<string, int> { ["train"] = 48, ["dev"] = 6, ["test"] = 6 }, summary.Splits);
        var vocab = Vocabulary.Load(summary.VocabularyPath);
        foreach (var (split, n) in summary.Splits)
        {
            Assert.Equal(new[] { n, 36, 16 }, Npy.ReadHeader(dir.PathOf($"{split}_ims.npy")).Shape);
            using var data = dir.Open(split, vocab);
            Assert.Equal(n, data.ImageCount);
            Assert.Equal(5 * n, data.CaptionCount);
            Assert.Equal(5, data.ImageDivisor);
            Assert.Equal(n, File.ReadAllLines(dir.PathOf($"{split}_scenes.jsonl")).Length);
            Assert.All(data.ImageIds!, id => Assert.True(File.Exists(dir.PathOf(Path.Combine("images", id + ".png")))));
            if (split != "test")
                for (int k = 0; k < data.CaptionCount; k++) Assert.DoesNotContain(Vocabulary.Unk, data.CaptionIds(k));
        }
    }

    [Fact]
    public void Should_WriteCaptionsThatAreTrueOfTheScene()
    {
        using var dir = new TempPrecomp();
        Generate(dir.Directory, Small with { Images = 300, RenderImages = false });
        int captions = 0;
        foreach (var split in SyntheticDataset.SplitNames)
        {
            var scenes = File.ReadAllLines(dir.PathOf($"{split}_scenes.jsonl")).Select(ParseScene).ToArray();
            var caps = File.ReadAllLines(dir.PathOf($"{split}_caps.txt"));
            Assert.Equal(5 * scenes.Length, caps.Length);
            for (int i = 0; i < scenes.Length; i++)
            {
                var mentioned = new HashSet<Obj>();
                for (int k = 0; k < 5; k++)
                {
                    string caption = caps[5 * i + k];
                    Assert.True(IsTrue(caption, scenes[i], mentioned), $"{split} image {i} caption '{caption}' is not true of {JsonSerializer.Serialize(scenes[i])}");
                    captions++;
                }
                // Captions of a scene with several objects talk about more than one of them.
                if (scenes[i].Objects.Length >= 2) Assert.True(mentioned.Count >= 2, $"{split} image {i}: all captions describe one object");
            }
        }
        Assert.Equal(1500, captions);
    }

    [Fact]
    public void Should_MakeTwinsThatSwapAttributesBetweenObjects()
    {
        using var dir = new TempPrecomp();
        var summary = Generate(dir.Directory, Small with { Images = 400, RenderImages = false });
        var scenes = File.ReadAllLines(dir.PathOf("train_scenes.jsonl")).Select(ParseScene).ToArray();
        var twins = scenes.Select((s, i) => (s, i)).Where(t => t.s.TwinOf is not null).ToArray();
        Assert.Equal(summary.Twins["train"], twins.Length);
        Assert.InRange(twins.Length, 60, 200); // ~half of the ~4/5 multi-object base scenes
        foreach (var (twin, i) in twins)
        {
            var base_ = scenes[i - 1];
            Assert.Equal(base_.Id, twin.TwinOf);
            Assert.Equal(base_.Background, twin.Background);
            Assert.Equal(base_.Objects.Select(o => o.Cell), twin.Objects.Select(o => o.Cell));
            // Same bag of colours, shapes and sizes ...
            Assert.Equal(base_.Objects.Select(o => o.Color).Order(), twin.Objects.Select(o => o.Color).Order());
            Assert.Equal(base_.Objects.Select(o => o.Shape).Order(), twin.Objects.Select(o => o.Shape).Order());
            Assert.Equal(base_.Objects.Select(o => o.Size).Order(), twin.Objects.Select(o => o.Size).Order());
            // ... bound differently: the objects themselves (ignoring where they are) are not the same.
            Assert.NotEqual(base_.Objects.Select(o => (o.Color, o.Shape, o.Size)).Order(), twin.Objects.Select(o => (o.Color, o.Shape, o.Size)).Order());
        }
    }

    [Fact]
    public void Should_GiveTwinsNearlyTheSameGlobalFeature()
    {
        // The mean region feature is a bag of attributes: twins should be much closer to each other than other
        // scenes with the same number of objects, since only the binding differs.
        using var dir = new TempPrecomp();
        Generate(dir.Directory, Small with { Images = 400, RenderImages = false, FeatureDim = 64, GlobalFeatures = true });
        var scenes = File.ReadAllLines(dir.PathOf("train_scenes.jsonl")).Select(ParseScene).ToArray();
        var (values, shape) = Npy.ReadFloat64(dir.PathOf("train_ims.npy"));
        Assert.Equal(new[] { scenes.Length, 64 }, shape);
        double twinDistance = 0, otherDistance = 0;
        int twins = 0, others = 0;
        for (int i = 1; i < scenes.Length; i++)
        {
            if (scenes[i].TwinOf is not null) { twinDistance += Distance(values, i, i - 1, 64); twins++; }
            else
            {
                int j = (i * 7919) % scenes.Length;
                if (j != i && scenes[j].Objects.Length == scenes[i].Objects.Length) { otherDistance += Distance(values, i, j, 64); others++; }
            }
        }
        Assert.True(twins > 20 && others > 20);
        Assert.True(twinDistance / twins < 0.6 * (otherDistance / others), $"twins {twinDistance / twins:F4} vs others {otherDistance / others:F4}");
    }

    [Fact]
    public void Should_WriteTheMeanOfTheRegions_AsGlobalFeatures()
    {
        using var regions = new TempPrecomp();
        using var global = new TempPrecomp();
        Generate(regions.Directory, Small with { RenderImages = false });
        Generate(global.Directory, Small with { RenderImages = false, GlobalFeatures = true });
        var (r, rs) = Npy.ReadFloat64(regions.PathOf("dev_ims.npy"));
        var (g, gs) = Npy.ReadFloat64(global.PathOf("dev_ims.npy"));
        Assert.Equal(new[] { 6, 36, 16 }, rs);
        Assert.Equal(new[] { 6, 16 }, gs);
        for (int n = 0; n < 6; n++)
            for (int d = 0; d < 16; d++)
            {
                double mean = 0;
                for (int k = 0; k < 36; k++) mean += r[(n * 36 + k) * 16 + d];
                Assert.Equal(mean / 36, g[n * 16 + d], 1e-5);
            }
    }

    [Fact]
    public void Should_RejectSplitsWithoutImages()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticDataset.SplitSizes(new SyntheticOptions { Images = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Generate(Path.GetTempPath(), Small with { Regions = 4 }));
    }

    private static double Distance(double[] v, int a, int b, int d)
    {
        double s = 0;
        for (int k = 0; k < d; k++) s += (v[a * d + k] - v[b * d + k]) * (v[a * d + k] - v[b * d + k]);
        return Math.Sqrt(s);
    }

    // --- an independent reader of scenes.jsonl and of the caption grammar ---

    private sealed record Obj(string Color, string Shape, string Size, int Row, int Column, string Cell);

    private sealed record SceneInfo(string Id, string Background, string? TwinOf, Obj[] Objects);

    private static SceneInfo ParseScene(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        var objects = r.GetProperty("objects").EnumerateArray().Select(o => new Obj(o.GetProperty("color").GetString()!, o.GetProperty("shape").GetString()!,
            o.GetProperty("size").GetString()!, o.GetProperty("row").GetInt32(), o.GetProperty("column").GetInt32(), o.GetProperty("cell").GetString()!)).ToArray();
        return new SceneInfo(r.GetProperty("id").GetString()!, r.GetProperty("background").GetString()!,
            r.GetProperty("twin_of").ValueKind == JsonValueKind.Null ? null : r.GetProperty("twin_of").GetString(), objects);
    }

    private const string Np = @"(?:a|an) (?:(?<size>small|medium|large) )?(?<color>\w+) (?<shape>\w+)";

    private const string Cell = "(?<cell>top left|top right|bottom left|bottom right|top|bottom|left|right|center)";

    [GeneratedRegex("^" + Np + " (?<rel>left of|right of|above|below) " + Np + " \\.$")]
    private static partial Regex RelationCaption();

    [GeneratedRegex("^" + Np + " and " + Np + " \\.$")]
    private static partial Regex PairCaption();

    [GeneratedRegex("^" + Np + "(?: and " + Np + ")? on a (?<bg>\\w+) background \\.$")]
    private static partial Regex BackgroundCaption();

    [GeneratedRegex("^there is " + Np + " in the " + Cell + "(?: and " + Np + " in the " + Cell + ")? \\.$")]
    private static partial Regex PositionCaption();

    [GeneratedRegex("^(?<count>\\w+) shapes? : (?<list>.+) \\.$")]
    private static partial Regex ListCaption();

    [GeneratedRegex("^" + Np + " \\.$")]
    private static partial Regex PlainCaption();

    [GeneratedRegex("^" + Np + "$")]
    private static partial Regex NounPhrase();

    private static bool IsTrue(string caption, SceneInfo scene, HashSet<Obj> mentioned)
    {
        Match m;
        if ((m = RelationCaption().Match(caption)).Success)
        {
            var a = Matching(scene, m, 0);
            var b = Matching(scene, m, 1);
            string rel = m.Groups["rel"].Value;
            bool ok = a.Any(x => b.Any(y => x != y && rel switch
            {
                "left of" => x.Column < y.Column,
                "right of" => x.Column > y.Column,
                "above" => x.Row < y.Row,
                _ => x.Row > y.Row,
            }));
            return Mention(ok, mentioned, a, b);
        }
        if ((m = PairCaption().Match(caption)).Success)
        {
            var a = Matching(scene, m, 0);
            var b = Matching(scene, m, 1);
            return Mention(a.Any(x => b.Any(y => x != y)), mentioned, a, b);
        }
        if ((m = BackgroundCaption().Match(caption)).Success)
        {
            var a = Matching(scene, m, 0);
            if (m.Groups["color"].Captures.Count == 1) return Mention(a.Count > 0 && m.Groups["bg"].Value == scene.Background, mentioned, a);
            var b = Matching(scene, m, 1);
            return Mention(a.Any(x => b.Any(y => x != y)) && m.Groups["bg"].Value == scene.Background, mentioned, a, b);
        }
        if ((m = PositionCaption().Match(caption)).Success)
        {
            var groups = new List<Obj>[m.Groups["color"].Captures.Count];
            for (int i = 0; i < groups.Length; i++)
            {
                string cell = m.Groups["cell"].Captures[i].Value;
                groups[i] = Matching(scene, m, i).Where(o => o.Cell == cell).ToList();
            }
            return Mention(groups.All(g => g.Count > 0), mentioned, groups);
        }
        if ((m = ListCaption().Match(caption)).Success)
        {
            string[] numbers = ["zero", "one", "two", "three", "four", "five"];
            var items = m.Groups["list"].Value.Split([" , ", " and "], StringSplitOptions.None);
            if (Array.IndexOf(numbers, m.Groups["count"].Value) != scene.Objects.Length || items.Length != scene.Objects.Length) return false;
            var found = items.Select(it => NounPhrase().Match(it)).ToArray();
            return found.All(f => f.Success && Matching(scene, f, 0).Count > 0)
                && found.Select(f => (f.Groups["color"].Value, f.Groups["shape"].Value)).Order()
                    .SequenceEqual(scene.Objects.Select(o => (o.Color, o.Shape)).Order());
        }
        if ((m = PlainCaption().Match(caption)).Success)
        {
            var a = Matching(scene, m, 0);
            return Mention(a.Count > 0, mentioned, a);
        }
        return false;
    }

    private static bool Mention(bool ok, HashSet<Obj> mentioned, params List<Obj>[] groups)
    {
        if (ok) foreach (var g in groups) if (g.Count == 1) mentioned.Add(g[0]);
        return ok;
    }

    // Objects that match the n-th noun phrase of the match (colour, shape, and size when given), with the right article.
    private static List<Obj> Matching(SceneInfo scene, Match m, int n)
    {
        string color = m.Groups["color"].Captures[n].Value, shape = m.Groups["shape"].Captures[n].Value;
        string? size = null;
        if (m.Groups["size"].Captures.Count > 0)
        {
            // Sizes are either given for every noun phrase of a template or for none.
            if (m.Groups["size"].Captures.Count != m.Groups["color"].Captures.Count) return [];
            size = m.Groups["size"].Captures[n].Value;
        }
        return scene.Objects.Where(o => o.Color == color && o.Shape == shape && (size is null || o.Size == size)).ToList();
    }
}
