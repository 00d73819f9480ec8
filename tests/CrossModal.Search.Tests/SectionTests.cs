using CrossModal.Search.Exact;
using CrossModal.Search.Hnsw;
using CrossModal.Search.Quantized;
using CrossModal.Search.Tests.Support;
using CrossModal.Tensors.Threading;

namespace CrossModal.Search.Tests;

/// <summary>Serialised sections: round trips (read and mapped) of every kind, embedding, and bad files.</summary>
[Collection(CrossModal.Tests.ThreadCountCollection.Name)]
public class SectionTests
{
    private const int N = 300, D = 24;
    private static readonly float[] Gallery = Vectors.RandomUnit(N, D, 51);
    private static readonly float[] Queries = Vectors.RandomUnit(7, D, 52);

    public static TheoryData<VectorIndexKind> Kinds => new() { VectorIndexKind.Exact, VectorIndexKind.Int8, VectorIndexKind.Hnsw };

    private static IVectorIndex Build(VectorIndexKind kind)
    {
        IVectorIndex index = kind switch
        {
            VectorIndexKind.Exact => new ExactIndex(D),
            VectorIndexKind.Int8 => new Int8Index(D) { RescoreFactor = 3 },
            _ => new HnswIndex(D, new HnswOptions { M = 8, EfConstruction = 40, EfSearch = 20 }),
        };
        int keep = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 1;
            index.Add(Gallery.AsSpan(0, 200 * D), TestContext.Current.CancellationToken);
            index.Add(Gallery.AsSpan(200 * D), TestContext.Current.CancellationToken); // two batches: the saved index holds both
        }
        finally { Parallelism.Threads = keep; }
        return index;
    }

    private static void AssertSameResults(IVectorIndex expected, IVectorIndex actual)
    {
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Dimension, actual.Dimension);
        var a = expected.Search(Queries, 10, TestContext.Current.CancellationToken);
        var b = actual.Search(Queries, 10, TestContext.Current.CancellationToken);
        Assert.Equal(a.Ids.ToArray(), b.Ids.ToArray());
        Assert.Equal(a.Scores.ToArray(), b.Scores.ToArray());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Should_RoundTrip_ThroughAStream_AndBackToBack(VectorIndexKind kind)
    {
        using var index = Build(kind);
        using var other = new ExactIndex(D);
        other.Add(Gallery.AsSpan(0, 5 * D), TestContext.Current.CancellationToken);
        var stream = new MemoryStream();
        index.Save(stream);
        Assert.Equal(0, stream.Length % 64);
        other.Save(stream); // a second section right after the first: each read stops at its own end
        stream.Position = 0;
        using var read = VectorIndexSection.Read(stream, "memory");
        using var second = VectorIndexSection.Read(stream, "memory");
        Assert.Equal(stream.Length, stream.Position);
        AssertSameResults(index, read);
        AssertSameResults(other, second);
        if (read is Int8Index int8) Assert.Equal(3, int8.RescoreFactor);
        if (read is HnswIndex hnsw) Assert.Equal(new HnswOptions { M = 8, EfConstruction = 40, EfSearch = 20 }, hnsw.Options);
        // A read index can grow (the float32 copy and the codes together, for int8).
        read.Add(Gallery.AsSpan(0, D), TestContext.Current.CancellationToken);
        Assert.Equal(N + 1, read.Count);
        Assert.Equal(N, read.Search(Gallery.AsSpan(0, D), 2, TestContext.Current.CancellationToken).IdsOf(0).ToArray().Max());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Should_MapASection_AtAnOffsetInsideAFile(VectorIndexKind kind)
    {
        using var index = Build(kind);
        string path = Path.Combine(Path.GetTempPath(), $"crossmodal-section-{Guid.NewGuid():N}.bin");
        try
        {
            index.Save(path); // atomically, through a temporary file
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, new byte[128].Concat(bytes).ToArray());
            using (var mapped = VectorIndexSection.Map(path, 128))
            {
                AssertSameResults(index, mapped);
                var e = Assert.Throws<InvalidOperationException>(() => mapped.Add(Gallery.AsSpan(0, D), TestContext.Current.CancellationToken));
                Assert.Contains("cannot grow", e.Message);
                if (kind != VectorIndexKind.Hnsw) Assert.Equal(0, mapped.MemoryBytes);
            }
            File.WriteAllBytes(path, bytes);
            using var read = VectorIndexSection.Read(path);
            AssertSameResults(index, read);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Should_RefuseTruncatedSections_WithOneClearError(VectorIndexKind kind)
    {
        using var index = Build(kind);
        var stream = new MemoryStream();
        index.Save(stream);
        var bytes = stream.ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"crossmodal-truncated-{Guid.NewGuid():N}.bin");
        try
        {
            foreach (int keep in new[] { 0, 10, 64, 100, bytes.Length / 2, bytes.Length - 1 })
            {
                var cut = bytes.AsSpan(0, keep).ToArray();
                var fromStream = Assert.Throws<InvalidDataException>(() => VectorIndexSection.Read(new MemoryStream(cut), "cut.bin"));
                Assert.Contains("cut.bin", fromStream.Message);
                Assert.Contains("truncated", fromStream.Message);
                // A stream that cannot tell its length fails while reading, with the same kind of message.
                var unseekable = Assert.Throws<InvalidDataException>(() => VectorIndexSection.Read(new ForwardOnly(cut), "pipe"));
                Assert.Contains("truncated", unseekable.Message);
                File.WriteAllBytes(path, cut);
                var mapped = Assert.Throws<InvalidDataException>(() => VectorIndexSection.Map(path));
                Assert.Contains("truncated", mapped.Message);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Should_RefuseForeignAndCorruptSections()
    {
        var foreign = System.Text.Encoding.ASCII.GetBytes("\x93NUMPY this is an .npy file, not an index section......................");
        var e = Assert.Throws<InvalidDataException>(() => VectorIndexSection.Read(new MemoryStream(foreign), "x.npy"));
        Assert.Contains("x.npy: not a CrossModal vector index section", e.Message);

        using var index = Build(VectorIndexKind.Exact);
        var stream = new MemoryStream();
        index.Save(stream);
        var bytes = stream.ToArray();
        var flipped = (byte[])bytes.Clone();
        flipped[16] ^= 1; // the dimension
        var crc = Assert.Throws<InvalidDataException>(() => VectorIndexSection.Read(new MemoryStream(flipped), "flip"));
        Assert.Contains("CRC-32", crc.Message);
        var version = (byte[])bytes.Clone();
        version[8] = 9;
        FixCrc(version);
        Assert.Contains("version 9", Assert.Throws<InvalidDataException>(() => VectorIndexSection.Read(new MemoryStream(version), "v")).Message);
        var kind = (byte[])bytes.Clone();
        kind[12] = 7;
        FixCrc(kind);
        Assert.Contains("unknown vector index kind 7", Assert.Throws<InvalidDataException>(() => VectorIndexSection.Read(new MemoryStream(kind), "k")).Message);
        var count = (byte[])bytes.Clone();
        count[24] += 1; // one more item than the payload holds
        FixCrc(count);
        Assert.Contains("the header says", Assert.Throws<InvalidDataException>(() => VectorIndexSection.Read(new MemoryStream(count), "c")).Message);
    }

    [Fact]
    public void Should_RefuseADamagedHnswGraph_BeforeUSearchReadsIt()
    {
        using var index = Build(VectorIndexKind.Hnsw);
        var stream = new MemoryStream();
        index.Save(stream);
        var bytes = stream.ToArray();
        // Section header (64) + HNSW parameters (64), then USearch's own bytes: flip one in their middle.
        long usearch = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(64 + 16));
        var damaged = (byte[])bytes.Clone();
        damaged[128 + usearch / 2] ^= 0x40;
        var read = Assert.Throws<InvalidDataException>(() => VectorIndexSection.Read(new MemoryStream(damaged), "g.bin"));
        Assert.Contains("g.bin: damaged HNSW index", read.Message);
        string path = Path.Combine(Path.GetTempPath(), $"crossmodal-damaged-{Guid.NewGuid():N}.bin");
        try
        {
            File.WriteAllBytes(path, damaged);
            Assert.Contains("damaged HNSW index", Assert.Throws<InvalidDataException>(() => VectorIndexSection.Map(path)).Message);
            File.WriteAllBytes(path, bytes); // the undamaged file still opens: the check is not what fails
            using var mapped = VectorIndexSection.Map(path);
            AssertSameResults(index, mapped);
        }
        finally { File.Delete(path); }
    }

    private static void FixCrc(byte[] b) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(40), CrossModal.Tensors.IO.Crc32.Compute(b.AsSpan(0, 40)));

    /// <summary>A stream that can only be read forward (like a pipe): no length, no seeking.</summary>
    private sealed class ForwardOnly(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
