using CrossModal.Checkpoints.Tests.Support;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// A checkpoint cut short anywhere fails with one InvalidDataException naming the file: at every section boundary
/// the fixture script measured with Python (after each header pickle, the object pickle, the key list, each
/// storage's count and data; each zip entry's header, data and the central directory), one byte either side of
/// it, and at every length of the small tensor-zoo files.
/// </summary>
public sealed class TruncationTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files => CheckpointManifest.CheckpointFiles();

    [Theory]
    [MemberData(nameof(Files))]
    public void Should_FailCleanlyWhenCutAtASectionBoundary(string file)
    {
        var entry = CheckpointManifest.Checkpoint(file);
        var bytes = File.ReadAllBytes(entry.Path);
        var cuts = entry.Sections.SelectMany(s => new[] { s - 1, s, s + 1 }).Where(c => c >= 0 && c < bytes.Length).Distinct().ToList();
        Assert.True(cuts.Count > 10, $"{file}: only {cuts.Count} cut points");
        foreach (long cut in cuts) AssertFails(bytes, (int)cut, file);
        output.WriteLine($"{file}: {cuts.Count} truncations, all refused");
    }

    [Fact]
    public void Should_FailCleanlyAtEveryLengthOfTheSmallFiles()
    {
        int count = 0;
        foreach (var file in CheckpointManifest.TensorFiles())
        {
            var bytes = File.ReadAllBytes(CheckpointManifest.PathOf(file));
            for (int cut = 0; cut < bytes.Length; cut++) AssertFails(bytes, cut, file);
            count += bytes.Length;
        }
        output.WriteLine($"{count} truncated inputs, all refused");
    }

    private static void AssertFails(byte[] bytes, int cut, string file)
    {
        string name = $"{file}@{cut}";
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(bytes[..cut], name));
        Assert.StartsWith(name + ": ", e.Message);
    }
}
