using System.Diagnostics;
using System.IO.Compression;
using CrossModal.Checkpoints.Tests.Support;
using CrossModal.Tensors;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// Mutation fuzzing of the reader with real fixture files: bit flips, truncations, insertions, deletions,
/// extreme values written over length fields, duplicated chunks, and combinations, from a fixed seed. Every
/// input must either load or fail with <see cref="InvalidDataException"/> naming the input; any other exception or
/// an allocation far beyond the input's size fails the test. The reader bounds its own work (every length is checked
/// against the bytes present, <see cref="TorchLoadLimits"/> caps objects and tensor expansion), so no wall-clock
/// limit is asserted per input: a hang would still end at the test's timeout. The counts are written to the test
/// output.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const ulong Seed = 0x5eed_c0de_2024;

    // CROSSMODAL_FUZZ_SCALE=N runs N times as many inputs (with other seeds for N > 1) for a longer local search.
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("CROSSMODAL_FUZZ_SCALE"), out int s) && s > 0 ? s : 1;

    private static readonly string[] CheckpointFiles =
    {
        "tensors/tensors.zip.pth.tar",
        "tensors/tensors.legacy.pth.tar",
        "tensors/tensors.p4.zip.pth.tar",
        "vsepp/vsepp.legacy.pth.tar",
        "vsepp/vsepp.zip.pth.tar",
        "scan_t2i_lse/scan_t2i_lse.py2legacy.pth.tar",
    };

    [Fact(Timeout = 600_000)]
    public async Task Should_LoadOrRefuseEveryMutatedCheckpoint()
    {
        var ct = TestContext.Current.CancellationToken;
        var stats = await Task.Run(() => Fuzz(CheckpointFiles, 500, b => Ckpt.Parse(b.Bytes, b.Name), ct), ct);
        Report("checkpoints", stats);
        Assert.Empty(stats.Failures);
        Assert.True(stats.Loaded > 0 && stats.Refused > 0, "the mutations should produce both outcomes");
    }

    [Fact(Timeout = 600_000)]
    public async Task Should_LoadOrRefuseEveryValidZipHoldingMutatedEntries()
    {
        // Byte-level mutation of a zip mostly breaks its directory; here the container stays valid and the
        // pickle or a storage entry inside it is mutated, so the unpickler and the storage checks see the damage.
        var ct = TestContext.Current.CancellationToken;
        var files = new[] { "tensors/tensors.zip.pth.tar", "tensors/tensors.p4.zip.pth.tar", "vsepp/vsepp.zip.pth.tar" };
        var stats = await Task.Run(() => Fuzz(files, 400, b => Ckpt.Parse(b.Bytes, b.Name), ct, MutateInsideZip), ct);
        Report("zip entries", stats);
        Assert.Empty(stats.Failures);
        Assert.True(stats.Loaded > 0 && stats.Refused > 0, "the mutations should produce both outcomes");
    }

    [Fact(Timeout = 600_000)]
    public async Task Should_LoadOrRefuseEveryMutatedPickle()
    {
        var ct = TestContext.Current.CancellationToken;
        var files = Enumerable.Range(0, 6).Select(p => $"pickles/corpus.p{p}.pkl").Append("pickles/py2.p2.pkl").ToArray();
        var stats = await Task.Run(() => Fuzz(files, 200, b => Ckpt.Pickle(b.Bytes, b.Name), ct), ct);
        Report("pickles", stats);
        Assert.Empty(stats.Failures);
        Assert.True(stats.Loaded > 0 && stats.Refused > 0, "the mutations should produce both outcomes");
    }

    private void Report(string what, FuzzStats s)
    {
        output.WriteLine($"fuzz {what}: {s.Inputs} inputs ({s.Loaded} loaded, {s.Refused} refused with InvalidDataException, {s.Failures.Count} other outcomes); " +
                         $"slowest {s.MaxMilliseconds:F1} ms, largest allocation {s.MaxAllocatedBytes / 1e6:F1} MB, {s.Seconds:F1} s total");
        foreach (var f in s.Failures.Take(20)) output.WriteLine("FAILURE " + f);
        foreach (var m in s.SampleMessages.Take(12)) output.WriteLine("  e.g. " + m);
    }

    private static FuzzStats Fuzz(string[] files, int perFile, Func<(byte[] Bytes, string Name), object?> load, CancellationToken ct,
        Func<byte[], Rng, (byte[], string)>? mutate = null)
    {
        mutate ??= Mutate;
        var stats = new FuzzStats();
        var total = Stopwatch.StartNew();
        var rng = new Rng(Seed + (ulong)(Scale - 1));
        perFile *= Scale;
        foreach (var file in files)
        {
            var original = File.ReadAllBytes(CheckpointManifest.PathOf(file));
            for (int i = 0; i < perFile; i++)
            {
                ct.ThrowIfCancellationRequested();
                var (mutated, how) = mutate(original, rng);
                string name = $"{file}#{i}";
                long before = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                try
                {
                    load((mutated, name));
                    stats.Loaded++;
                }
                catch (InvalidDataException e)
                {
                    stats.Refused++;
                    if (!e.Message.StartsWith(name + ":", StringComparison.Ordinal)) stats.Failures.Add($"{name} ({how}): message does not name the input: {e.Message}");
                    if (stats.SampleMessages.Count < 40 && stats.Refused % 97 == 1) stats.SampleMessages.Add(e.Message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    stats.Failures.Add($"{name} ({how}): {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                }
                sw.Stop();
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                stats.Inputs++;
                stats.MaxMilliseconds = Math.Max(stats.MaxMilliseconds, sw.Elapsed.TotalMilliseconds);
                stats.MaxAllocatedBytes = Math.Max(stats.MaxAllocatedBytes, allocated);
                // Loading converts at most a few copies of the file; expansion is capped by TorchLoadLimits.
                if (allocated > 40L * mutated.Length + (64L << 20)) stats.Failures.Add($"{name} ({how}): allocated {allocated} bytes for a {mutated.Length}-byte input");
            }
        }
        stats.Seconds = total.Elapsed.TotalSeconds;
        return stats;
    }

    /// <summary>One to three random mutations; half of them land in the first 4 KB, where the pickles live.</summary>
    private static (byte[] Bytes, string How) Mutate(byte[] original, Rng rng)
    {
        var bytes = new List<byte>(original);
        var how = new List<string>();
        int rounds = 1 + rng.NextInt(3);
        for (int r = 0; r < rounds && bytes.Count > 0; r++)
        {
            int span = rng.NextInt(2) == 0 ? Math.Min(bytes.Count, 4096) : bytes.Count;
            int at = rng.NextInt(span);
            switch (rng.NextInt(6))
            {
                case 0:
                {
                    int flips = 1 + rng.NextInt(4);
                    for (int k = 0; k < flips; k++)
                    {
                        int p = Math.Min(bytes.Count - 1, at + rng.NextInt(16));
                        bytes[p] ^= (byte)(1 << rng.NextInt(8));
                    }
                    how.Add($"flip{flips}@{at}");
                    break;
                }
                case 1:
                {
                    int cut = rng.NextInt(bytes.Count);
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    how.Add($"cut@{cut}");
                    break;
                }
                case 2:
                {
                    int n = 1 + rng.NextInt(16);
                    bytes.InsertRange(at, Enumerable.Range(0, n).Select(_ => (byte)rng.NextInt(256)));
                    how.Add($"insert{n}@{at}");
                    break;
                }
                case 3:
                {
                    int n = Math.Min(bytes.Count - at, 1 + rng.NextInt(16));
                    bytes.RemoveRange(at, n);
                    how.Add($"delete{n}@{at}");
                    break;
                }
                case 4:
                {
                    // Extreme values over what may be a length, count, offset or index field.
                    int width = new[] { 1, 2, 4, 8 }[rng.NextInt(4)];
                    byte[] pattern = rng.NextInt(4) switch
                    {
                        0 => Enumerable.Repeat((byte)0xff, width).ToArray(),
                        1 => Enumerable.Repeat((byte)0xff, width - 1).Append((byte)0x7f).ToArray(),
                        2 => Enumerable.Repeat((byte)0x00, width - 1).Append((byte)0x80).ToArray(),
                        _ => new byte[width],
                    };
                    for (int k = 0; k < width && at + k < bytes.Count; k++) bytes[at + k] = pattern[k];
                    how.Add($"extreme{width}@{at}");
                    break;
                }
                default:
                {
                    int n = Math.Min(bytes.Count - at, 1 + rng.NextInt(64));
                    var chunk = bytes.GetRange(at, n);
                    bytes.InsertRange(rng.NextInt(bytes.Count), chunk);
                    how.Add($"dup{n}@{at}");
                    break;
                }
            }
        }
        return (bytes.ToArray(), string.Join("+", how));
    }

    /// <summary>Rewrites a zip with one entry mutated (70%: data.pkl, else a storage), or one entry renamed.</summary>
    private static (byte[] Bytes, string How) MutateInsideZip(byte[] original, Rng rng)
    {
        var entries = new List<(string Name, byte[] Data)>();
        using (var zip = new ZipArchive(new MemoryStream(original), ZipArchiveMode.Read))
        {
            foreach (var e in zip.Entries)
            {
                using var s = e.Open();
                var ms = new MemoryStream();
                s.CopyTo(ms);
                entries.Add((e.FullName, ms.ToArray()));
            }
        }
        int pkl = entries.FindIndex(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal));
        var storages = Enumerable.Range(0, entries.Count).Where(i => entries[i].Name.Contains("/data/", StringComparison.Ordinal)).ToList();
        string how;
        if (rng.NextInt(20) == 0)
        {
            int i = rng.NextInt(entries.Count);
            string renamed = entries[i].Name + "x";
            how = $"rename {entries[i].Name}";
            entries[i] = (renamed, entries[i].Data);
        }
        else
        {
            int i = rng.NextInt(10) < 7 || storages.Count == 0 ? pkl : storages[rng.NextInt(storages.Count)];
            var (data, inner) = Mutate(entries[i].Data, rng);
            entries[i] = (entries[i].Name, data);
            how = $"{entries[i].Name}: {inner}";
        }
        var result = new MemoryStream();
        using (var zip = new ZipArchive(result, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                var e = zip.CreateEntry(name, CompressionLevel.NoCompression);
                using var s = e.Open();
                s.Write(data);
            }
        }
        return (result.ToArray(), how);
    }

    private sealed class FuzzStats
    {
        public int Inputs;
        public int Loaded;
        public int Refused;
        public double MaxMilliseconds;
        public long MaxAllocatedBytes;
        public double Seconds;
        public readonly List<string> Failures = new();
        public readonly List<string> SampleMessages = new();
    }
}
