using CrossModal.Checkpoints.Tests.Support;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// The allow-list: a pickle that names anything but the checkpoint types is refused with an error naming the
/// global, before anything else happens (the marker file a real unpickler would create is never created).
/// </summary>
public sealed class RefusalTests
{
    public static TheoryData<string, string> Hostile => new()
    {
        { "os", "system" },
        { "posix", "system" },
        { "nt", "system" },
        { "builtins", "eval" },
        { "__builtin__", "eval" },
        { "builtins", "exec" },
        { "builtins", "getattr" },
        { "subprocess", "Popen" },
        { "torch", "load" },
        { "numpy", "load" },
        { "collections", "defaultdict" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Should_RefuseAGlobalNamedWithGLOBAL(string module, string name)
    {
        string marker = Path.Combine(Path.GetTempPath(), $"crossmodal-pwned-{Guid.NewGuid():N}");
        var pickle = new PickleBuilder().Proto().Global(module, name).Mark().Str($"touch {marker}").Tuple().Reduce().Stop().ToArray();
        AssertRefused(pickle, $"{module}.{name}");
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Should_RefuseAGlobalNamedWithSTACK_GLOBAL(string module, string name)
    {
        var pickle = new PickleBuilder().Proto(4).StackGlobal(module, name).Mark().Str("id").Tuple().Reduce().Stop().ToArray();
        AssertRefused(pickle, $"{module}.{name}");
    }

    [Fact]
    public void Should_RefuseAClassInstantiatedWithINST()
    {
        var pickle = new PickleBuilder().Mark().Str("id").Raw((byte)'i').Raw("os\nsystem\n"u8.ToArray()).Stop().ToArray();
        AssertRefused(pickle, "os.system");
    }

    [Fact]
    public void Should_RefuseAHostileGlobalInsideAZipCheckpoint()
    {
        var pickle = new PickleBuilder().Proto().Global("posix", "system").Mark().Str("echo hi").Tuple().Reduce().Stop().ToArray();
        var ms = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(ms, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry("archive/data.pkl", System.IO.Compression.CompressionLevel.NoCompression);
            using var s = entry.Open();
            s.Write(pickle);
        }
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(ms.ToArray(), "evil.pth"));
        Assert.StartsWith("evil.pth: archive/data.pkl: global 'posix.system' is not allowed", e.Message);
    }

    [Fact]
    public void Should_RefuseAWholePickledModuleByName()
    {
        // torch.save(model) instead of torch.save(model.state_dict()): the module class is named, not rebuilt.
        foreach (var (file, cls) in CheckpointManifest.Root.GetProperty("refused").EnumerateObject().Select(p => (p.Name, p.Value.GetString()!)))
        {
            var path = CheckpointManifest.PathOf("refused/" + file);
            var e = Assert.Throws<InvalidDataException>(() => Ckpt.Load(path));
            Assert.StartsWith(path + ": ", e.Message);
            Assert.True(e.Message.Contains($"global '{cls}' is not allowed") || e.Message.Contains("pickles a whole nn.Module"), e.Message);
        }
    }

    [Fact]
    public void Should_RefuseExtensionCodesAndOutOfBandBuffers()
    {
        AssertRefused(new PickleBuilder().Proto().Raw(0x82, 0x01).Stop().ToArray(), "extension registry");
        AssertRefused(new PickleBuilder().Proto(5).Raw(0x97).Stop().ToArray(), "out-of-band buffers");
    }

    private static void AssertRefused(byte[] objectPickle, string named)
    {
        var legacy = PickleBuilder.Legacy(objectPickle);
        var e = Assert.Throws<InvalidDataException>(() => Ckpt.Parse(legacy, "hostile.pth.tar"));
        Assert.StartsWith("hostile.pth.tar: object pickle: ", e.Message);
        Assert.Contains(named.Contains('.') ? $"global '{named}' is not allowed" : named, e.Message);
        var bare = Assert.Throws<InvalidDataException>(() => Ckpt.Pickle(objectPickle, "hostile.pkl"));
        Assert.Contains(named, bare.Message);
    }
}
