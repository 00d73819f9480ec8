using CrossModal.Checkpoints;
using CrossModal.Data;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Text;
using CrossModal.Search.Gallery;
using CrossModal.Training;
using CrossModal.Vision.Imaging;
using CrossModal.Vision.Onnx;

namespace CrossModal.Fuzz;

/// <summary>
/// The parser table: every file format CrossModal reads, its seeds, mutations, entry point and allocation budget.
/// Budgets are the format's largest legitimate expansion of its input with a margin (a decoder may legitimately turn
/// a small compressed file into many pixels; a JSON parser may not turn a few bytes into gigabytes).
/// </summary>
public static class FuzzTargets
{
    /// <summary>Formats not fuzzed, with the reason (none: every format CrossModal reads is a target).</summary>
    public static IReadOnlyList<(string Name, string Reason)> Pending { get; } = [];

    private static readonly string[] InertVocabulary = ["__main__.Vocabulary"];

    // Fixtures of formats the reader refuses on purpose (they test the refusals): seeds must load.
    private static readonly string[] RefusedNpy = ["bigendian", "complex", "fortran"];

    /// <summary>All targets, in report order (seeds are read and generated once).</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } = Build();

    /// <summary>The target called <paramref name="name"/>.</summary>
    public static FuzzTarget Get(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"no parser '{name}'; the parsers are: {string.Join(", ", All.Select(t => t.Name))}.");

    private static List<FuzzTarget> Build() =>
    [
        new FuzzTarget
        {
            Name = "npy",
            CiInputs = 300,
            Api = "Npy.ReadHeader/ReadFloat32/ReadInt64/ReadFloat64, NpyMapped.Open (every row read)",
            Seeds = [.. FuzzPaths.FixtureSeeds("io", "*.npy").Where(s => !RefusedNpy.Any(s.Name.Contains)), .. FuzzPaths.FixtureSeeds(Path.Combine("vision", "features"), "*_input.npy"),
                     .. FuzzPaths.FixtureSeeds(Path.Combine("checkpoints", "inputs"), "*.npy")],
            Mutate = OneFile(Mix((1, Bytes), (1, StructuredMutations.NpyHeader))),
            OnDisk = true,
            Parse = (input, dir) => ParseNpy(Path.Combine(dir, input.Files.Keys.Single())),
            BytesPerInputByte = 16,
            BudgetReason = "the data is read once as bytes and converted once (int8/uint8 to int64: 8x)",
        },
        new FuzzTarget
        {
            Name = "safetensors",
            CiInputs = 2000,
            Api = "Safetensors.Parse",
            Seeds = FuzzPaths.FixtureSeeds("engine", "*.safetensors").Where(s => s.Bytes.Length <= 8192).ToList(),
            Mutate = OneFile(Mix((1, Bytes), (1, StructuredMutations.SafetensorsHeader))),
            OnDisk = false,
            Parse = (input, name) => Safetensors.Parse(input.Bytes, name),
            BytesPerInputByte = 16,
            BudgetReason = "the JSON header once, every tensor converted once to float32 (uint8/bool: 4x)",
        },
        new FuzzTarget
        {
            Name = "model-file",
            CiInputs = 300,
            Api = "Checkpoint.Load (our model files and training checkpoints: safetensors + config, vocabulary, options, state)",
            Seeds = GeneratedSeeds.ModelFiles(),
            Mutate = OneFile(Mix((1, Bytes), (2, StructuredMutations.SafetensorsHeader))),
            OnDisk = true,
            Parse = (input, dir) => Checkpoint.Load(Path.Combine(dir, input.Files.Keys.Single())),
            BytesPerInputByte = 32,
            BudgetReason = "safetensors' budget plus the metadata's JSON documents (config, vocabulary, options, state)",
        },
        new FuzzTarget
        {
            Name = "torch-zip",
            CiInputs = 1500,
            Api = "TorchCheckpoint.Parse (zip), then ModelStateDicts, Options, Epoch, BestRsum",
            Seeds = TorchSeeds(zip: true),
            Mutate = OneFile(Mix((1, Bytes), (1, StructuredMutations.InsideZip))),
            OnDisk = false,
            Parse = (input, name) => ParseTorch(input.Bytes, name),
            BytesPerInputByte = 64,
            FixedBytes = 64L << 20,
            BudgetReason = "the pickle's objects and the storages once; stride-0 expansion is capped by TorchLoadLimits (4 elements per file byte + 1M)",
        },
        new FuzzTarget
        {
            Name = "torch-legacy",
            CiInputs = 1500,
            Api = "TorchCheckpoint.Parse (legacy pickle + storages), then ModelStateDicts, Options, Epoch, BestRsum",
            Seeds = TorchSeeds(zip: false),
            Mutate = OneFile(Bytes),
            OnDisk = false,
            Parse = (input, name) => ParseTorch(input.Bytes, name),
            BytesPerInputByte = 64,
            FixedBytes = 64L << 20,
            BudgetReason = "as torch-zip",
        },
        new FuzzTarget
        {
            Name = "pickle-vocab",
            CiInputs = 2000,
            Api = "PickleFile.Parse with __main__.Vocabulary inert (VSE++ vocabulary pickles; the restricted unpickler)",
            Seeds = [.. FuzzPaths.FixtureSeeds("fuzz", "vocab.p*.pkl"), .. FuzzPaths.FixtureSeeds(Path.Combine("checkpoints", "pickles"), "*.pkl")],
            Mutate = OneFile(Bytes),
            OnDisk = false,
            Parse = (input, name) => PickleFile.Parse(input.Bytes, name, InertVocabulary),
            BytesPerInputByte = 128,
            FixedBytes = 64L << 20,
            BudgetReason = "one opcode byte may build one small object (a list, a dict, a memo slot); the stack and memo are capped by TorchLoadLimits",
        },
        new FuzzTarget
        {
            Name = "vocab-json",
            CiInputs = 500,
            Api = "Vocabulary.Load (SCAN vocabulary JSON)",
            Seeds = [GeneratedSeeds.VocabularyJson(), .. FuzzPaths.FixtureSeeds("text", "vocab_*.json")],
            Mutate = OneFile(TextMutations.Mutate),
            OnDisk = true,
            Parse = (input, dir) => Vocabulary.Load(Path.Combine(dir, input.Files.Keys.Single())),
            BytesPerInputByte = 64,
            BudgetReason = "the JSON document, the words as UTF-16 strings, two dictionaries and the key order",
        },
        new FuzzTarget
        {
            Name = "captions",
            CiInputs = 200,
            Api = "PrecompDataset.Open (a precomp split: {split}_caps.txt and {split}_ids.txt mutated, features intact)",
            Seeds = [GeneratedSeeds.PrecompSplit()],
            Mutate = FileOf((8, "train_caps.txt", TextMutations.Mutate), (2, "train_ids.txt", TextMutations.Mutate)),
            OnDisk = true,
            Parse = (input, dir) => PrecompDataset.Open(dir, "train", GeneratedSeeds.CaptionVocabulary).Dispose(),
            BytesPerInputByte = 64,
            BudgetReason = "the lines as UTF-16 strings, their tokens and the encoded ids",
        },
        new FuzzTarget
        {
            Name = "onnx",
            CiInputs = 2000,
            Api = "OnnxModel.Parse",
            Seeds = FuzzPaths.FixtureSeeds(Path.Combine("vision", "onnx"), "*.onnx"),
            Mutate = OneFile(Bytes),
            OnDisk = false,
            Parse = (input, name) => OnnxModel.Parse(input.Bytes, name),
            BytesPerInputByte = 64,
            BudgetReason = "a packed varint of 1 byte becomes an 8-byte value in a growing list, then an array",
        },
        new FuzzTarget
        {
            Name = "jpeg",
            CiInputs = 1000,
            Api = "ImageDecoder.Decode (JpegDecoder)",
            Seeds = FuzzPaths.FixtureSeeds(Path.Combine("vision", "jpeg"), "*.jpg").Where(s => !s.Name.Contains("refused_")).ToList(),
            Mutate = OneFile(Mix((1, Bytes), (1, StructuredMutations.JpegSegments))),
            OnDisk = false,
            Parse = (input, name) => ImageDecoder.Decode(input.Bytes, name),
            BytesPerInputByte = 4096,
            FixedBytes = 16L << 20,
            BudgetReason = "a coded 8x8 block takes at least 1 bit, so a byte codes at most 8 blocks (512 pixels): 128 bytes of coefficients per block, planes and RGB",
        },
        new FuzzTarget
        {
            Name = "png",
            CiInputs = 2000,
            Api = "ImageDecoder.Decode (PngDecoder)",
            Seeds = [.. FuzzPaths.FixtureSeeds(Path.Combine("vision", "png"), "*.png"), .. FuzzPaths.FixtureSeeds(Path.Combine("vision", "resize"), "*.png")],
            Mutate = OneFile(Mix((1, Bytes), (2, StructuredMutations.PngChunks))),
            OnDisk = false,
            Parse = (input, name) => ImageDecoder.Decode(input.Bytes, name),
            BytesPerInputByte = 32768,
            FixedBytes = 16L << 20,
            BudgetReason = "deflate expands at most 1032x; a 1-bit pixel becomes 3 RGB bytes (24x per inflated byte)",
        },
        new FuzzTarget
        {
            Name = "index",
            CiInputs = 300,
            Api = "GalleryIndex.Open (exact, int8 and HNSW galleries), then a top-5 search of every collection",
            Seeds = GeneratedSeeds.Galleries(),
            Mutate = OneFile(Bytes),
            OnDisk = true,
            Parse = (input, dir) => ParseGallery(Path.Combine(dir, input.Files.Keys.Single())),
            BytesPerInputByte = 64,
            BudgetReason = "the item lists as UTF-16 strings, the metadata JSON, the vectors of a writable open at most once",
        },
        new FuzzTarget
        {
            Name = "labelled-pairs",
            CiInputs = 200,
            Api = "CategoryDataset.Open (one of the split's files mutated)",
            Seeds = [GeneratedSeeds.LabelledPairs()],
            Mutate = FileOf(
                (2, "train_img_feat.npy", Mix((1, Bytes), (1, StructuredMutations.NpyHeader))),
                (1, "train_txt_feat.npy", Mix((1, Bytes), (1, StructuredMutations.NpyHeader))),
                (3, "train_labels.txt", TextMutations.Mutate), (1, "categories.txt", TextMutations.Mutate),
                (1, "train_texts.txt", TextMutations.Mutate), (2, "train_ids.tsv", TextMutations.Mutate)),
            OnDisk = true,
            Parse = (input, dir) => CategoryDataset.Open(dir, "train"),
            BytesPerInputByte = 64,
            BudgetReason = "the features once as floats, the text files as UTF-16 strings",
        },
    ];

    private static IReadOnlyList<FuzzSeed> TorchSeeds(bool zip)
    {
        string[] files = zip
            ? ["tensors/tensors.zip.pth.tar", "tensors/tensors.p4.zip.pth.tar", "vsepp/vsepp.zip.pth.tar", "scan_i2t_mean/scan_i2t_mean.zip.pth.tar"]
            : ["tensors/tensors.legacy.pth.tar", "vsepp/vsepp.legacy.pth.tar", "scan_t2i_lse/scan_t2i_lse.py2legacy.pth.tar", "scan_i2t_mean/scan_i2t_mean.legacy.pth.tar"];
        return files.Select(f => FuzzSeed.Single("checkpoints/" + f, File.ReadAllBytes(FuzzPaths.Fixture("checkpoints", f)))).ToList();
    }

    private static void ParseGallery(string path)
    {
        using var gallery = GalleryIndex.Open(path);
        foreach (var c in new[] { gallery.Images, gallery.Captions })
        {
            if (c is null || c.Count == 0) continue;
            var query = new float[c.Vectors.Dimension];
            query[0] = 1;
            int k = Math.Min(5, c.Count);
            c.Vectors.Search(query, k, new int[k], new float[k]);
        }
    }

    private static void ParseNpy(string path)
    {
        var header = Npy.ReadHeader(path);
        switch (header.Descr)
        {
            case "<f4":
            {
                using var mapped = NpyMapped.Open(path);
                double sum = 0;
                for (int r = 0; r < mapped.Rows; r++)
                    foreach (float v in mapped.Row(r)) sum += v;
                Npy.ReadFloat32(path);
                Npy.ReadFloat64(path);
                break;
            }
            case "<f8": Npy.ReadFloat64(path); Npy.ReadFloat32(path); break;
            default: Npy.ReadInt64(path); break;
        }
    }

    private static void ParseTorch(byte[] bytes, string name)
    {
        var checkpoint = TorchCheckpoint.Parse(bytes, name);
        if (checkpoint.Contains("model")) _ = checkpoint.ModelStateDicts();
        if (checkpoint.Contains("opt")) _ = checkpoint.Options;
        _ = (checkpoint.Epoch, checkpoint.BestRsum, checkpoint.Eiters, checkpoint.Keys);
    }

    /// <summary>Byte-level mutations (see <see cref="ByteMutations"/>).</summary>
    private static Mutation Bytes(byte[] bytes, Rng rng) => ByteMutations.Mutate(bytes, rng);

    /// <summary>Chooses one of the mutations by weight.</summary>
    private static Func<byte[], Rng, Mutation> Mix(params (int Weight, Func<byte[], Rng, Mutation> Mutate)[] choices)
    {
        int total = choices.Sum(c => c.Weight);
        return (bytes, rng) =>
        {
            int pick = rng.NextInt(total);
            foreach (var (weight, mutate) in choices)
            {
                if (pick < weight) return mutate(bytes, rng);
                pick -= weight;
            }
            throw new InvalidOperationException("unreachable");
        };
    }

    /// <summary>Mutates the one file of a one-file seed.</summary>
    private static Func<FuzzSeed, Rng, (IReadOnlyDictionary<string, byte[]> Files, string How)> OneFile(Func<byte[], Rng, Mutation> mutate) => (seed, rng) =>
    {
        var (name, bytes) = seed.Files.Single();
        var m = mutate(bytes, rng);
        return (new Dictionary<string, byte[]> { [name] = m.Bytes }, m.How);
    };

    /// <summary>Mutates one file of a multi-file seed, chosen by weight.</summary>
    private static Func<FuzzSeed, Rng, (IReadOnlyDictionary<string, byte[]> Files, string How)> FileOf(params (int Weight, string File, Func<byte[], Rng, Mutation> Mutate)[] choices)
    {
        int total = choices.Sum(c => c.Weight);
        return (seed, rng) =>
        {
            int pick = rng.NextInt(total);
            foreach (var (weight, file, mutate) in choices)
            {
                if (pick >= weight)
                {
                    pick -= weight;
                    continue;
                }
                var m = mutate(seed.Files[file], rng);
                var files = new Dictionary<string, byte[]>(seed.Files) { [file] = m.Bytes };
                return (files, $"{file}: {m.How}");
            }
            throw new InvalidOperationException("unreachable");
        };
    }
}
