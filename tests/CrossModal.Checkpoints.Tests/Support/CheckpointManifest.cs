using System.Text.Json;
using CrossModal.Tests;

namespace CrossModal.Checkpoints.Tests.Support;

/// <summary>
/// tests/fixtures/checkpoints/manifest.json, written by tools/reference/checkpoint_fixtures.py from what PyTorch
/// saved and loaded: the independent expectation for every checkpoint fixture.
/// </summary>
internal static class CheckpointManifest
{
    private static readonly Lazy<JsonDocument> Document = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestData.Fixture("checkpoints", "manifest.json"))));

    public static JsonElement Root => Document.Value.RootElement;

    /// <summary>Absolute path of a file named relative to the fixture folder.</summary>
    public static string PathOf(string relative) => TestData.Fixture(new[] { "checkpoints" }.Concat(relative.Split('/')).ToArray());

    public static IEnumerable<CheckpointEntry> Checkpoints =>
        Root.GetProperty("checkpoints").EnumerateArray().Select(e => new CheckpointEntry(e));

    public static CheckpointEntry Checkpoint(string relativeFile) =>
        Checkpoints.Single(c => c.RelativeFile == relativeFile);

    /// <summary>xunit data: the relative file of every model checkpoint.</summary>
    public static TheoryData<string> CheckpointFiles()
    {
        var data = new TheoryData<string>();
        foreach (var c in Checkpoints) data.Add(c.RelativeFile);
        return data;
    }

    /// <summary>xunit data: the tensor-zoo files (relative).</summary>
    public static TheoryData<string> TensorFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Root.GetProperty("tensors").GetProperty("files").EnumerateArray()) data.Add(f.GetProperty("file").GetString()!);
        return data;
    }

    public static JsonElement TensorFile(string relative) =>
        Root.GetProperty("tensors").GetProperty("files").EnumerateArray().Single(f => f.GetProperty("file").GetString() == relative);
}

/// <summary>One checkpoint file as the manifest describes it.</summary>
internal sealed class CheckpointEntry(JsonElement e)
{
    public JsonElement Json { get; } = e;

    public string RelativeFile => Json.GetProperty("file").GetString()!;

    public string Path => CheckpointManifest.PathOf(RelativeFile);

    /// <summary>"zip", "legacy" or "legacy-py2".</summary>
    public string Format => Json.GetProperty("format").GetString()!;

    /// <summary>The model folder (e.g. "scan_t2i_lse").</summary>
    public string Fixture => Json.GetProperty("fixture").GetString()!;

    public string Method => CheckpointManifest.Root.GetProperty("models").GetProperty(Fixture).GetProperty("method").GetString()!;

    public IReadOnlyList<string> TopKeys => Json.GetProperty("top_keys").EnumerateArray().Select(k => k.GetString()!).ToList();

    public long Epoch => Json.GetProperty("epoch").GetInt64();

    public double BestRsum => Json.GetProperty("best_rsum").GetDouble();

    public long Eiters => Json.GetProperty("Eiters").GetInt64();

    public JsonElement Opt => Json.GetProperty("opt");

    public JsonElement OptTypes => Json.GetProperty("opt_types");

    /// <summary>Per list entry: (name, shape, dtype) in state-dict order.</summary>
    public IReadOnlyList<IReadOnlyList<(string Name, int[] Shape, string DType)>> StateDicts =>
        Json.GetProperty("state_dicts").EnumerateArray().Select(sd => (IReadOnlyList<(string, int[], string)>)sd.EnumerateArray()
            .Select(t => (t.GetProperty("name").GetString()!, t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(), t.GetProperty("dtype").GetString()!))
            .ToList()).ToList();

    public IReadOnlyList<long> Sections => Json.GetProperty("sections").EnumerateArray().Select(s => s.GetInt64()).ToList();
}
