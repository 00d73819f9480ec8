using System.Text;
using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Objectives;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Search;
using CrossModal.Search.Gallery;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Text;
using CrossModal.Training;

namespace CrossModal.Fuzz;

/// <summary>
/// Seeds made by our own writers, deterministically (fixed generator seeds): small precomp and labelled-pairs
/// folders, our model files and training checkpoints, and a small SCAN vocabulary. The same run of the runner always
/// starts from the same bytes.
/// </summary>
public static class GeneratedSeeds
{
    /// <summary>Captions of the generated precomp split: 5 per image, plain English, as in Flickr8k.</summary>
    public static readonly string[] Captions =
    [
        "A dog is running through the grass .", "A brown dog runs on the grass", "The dog plays outside .", "a dog running", "Dog in a field .",
        "Two children play on the beach .", "Kids playing in the sand", "two girls on a beach .", "Children run near the water", "A child at the beach",
        "A man in a red shirt climbs a rock .", "A climber on a rock wall", "man climbing", "A person in red climbs .", "The man is climbing a cliff",
        "A woman with a black hat sits on a bench .", "woman sitting on a bench", "A lady in a hat rests .", "A woman is sitting outside", "Someone sits on a bench .",
    ];

    /// <summary>The vocabulary of <see cref="Captions"/> (every word seen once or more).</summary>
    public static Vocabulary CaptionVocabulary { get; } = Vocabulary.Build(Captions, threshold: 1);

    /// <summary>A precomp split "train": 4 images x 2 regions x 4 features, 20 captions, 4 ids.</summary>
    public static FuzzSeed PrecompSplit()
    {
        var rng = new Rng(11);
        var features = new float[4 * 2 * 4];
        rng.Uniform(features, -1f, 1f);
        return new FuzzSeed("generated/precomp-train", new Dictionary<string, byte[]>
        {
            ["train_ims.npy"] = NpyBytes(features, [4, 2, 4]),
            ["train_caps.txt"] = Utf8(string.Concat(Captions.Select(c => c + "\n"))),
            ["train_ids.txt"] = Utf8("img0.jpg\nimg1.jpg\nimg2.jpg\nimg3.jpg\n"),
        });
    }

    /// <summary>A labelled-pairs split "train": 12 pairs of 6-d image and 4-d text features in 3 classes, with every optional file.</summary>
    public static FuzzSeed LabelledPairs()
    {
        var rng = new Rng(12);
        var images = new float[12 * 6];
        var texts = new float[12 * 4];
        rng.Uniform(images, 0f, 1f);
        rng.Normal(texts);
        var labels = Enumerable.Range(0, 12).Select(i => i % 3).ToArray();
        var ids = new StringBuilder("text_id\timage_id\n");
        for (int i = 0; i < 12; i++) ids.Append($"t{i}\tim{i}.jpg\n");
        return new FuzzSeed("generated/labelled-pairs-train", new Dictionary<string, byte[]>
        {
            ["train_img_feat.npy"] = NpyBytes(images, [12, 6]),
            ["train_txt_feat.npy"] = NpyBytes(texts, [12, 4]),
            ["train_labels.txt"] = Utf8(string.Concat(labels.Select(l => l + "\n"))),
            ["categories.txt"] = Utf8("art\nbiology\ngeography\n"),
            ["train_texts.txt"] = Utf8(string.Concat(Enumerable.Range(0, 12).Select(i => $"text number {i} about {new[] { "art", "cells", "rivers" }[i % 3]}\n"))),
            ["train_ids.tsv"] = Utf8(ids.ToString()),
        });
    }

    /// <summary>A SCAN vocabulary JSON of the generated captions.</summary>
    public static FuzzSeed VocabularyJson() => FuzzSeed.Single("generated/vocab.json", Utf8(CaptionVocabulary.ToJson()));

    /// <summary>Our model files: a VSE++ model file, and SCAN and VSE++ training checkpoints (optimizer state, options, state).</summary>
    public static IReadOnlyList<FuzzSeed> ModelFiles()
    {
        string dir = Directory.CreateTempSubdirectory("crossmodal-fuzz-seeds-").FullName;
        try
        {
            var seeds = new List<FuzzSeed>();
            string vocab = CaptionVocabulary.ToJson();
            var vse = new VseModel(new VseConfig { ImgDim = 6, EmbedSize = 5, WordDim = 3, VocabSize = CaptionVocabulary.Count }, new Rng(13));
            Checkpoint.Save(Path.Combine(dir, "vsepp_model.safetensors"), vse, vocab);
            var scan = new ScanModel(new ScanConfig { ImgDim = 4, EmbedSize = 4, WordDim = 3, VocabSize = CaptionVocabulary.Count, CrossAttn = AttentionDirection.ImageToText }, new Rng(14));
            var options = new TrainOptions { DataPath = "data", OutputPath = "runs/x", Seed = 3, CheckpointSteps = 100 };
            var state = new TrainState { Epoch = 1, BatchesDone = 3, Step = 11, BestScore = 123.5, BestEpoch = 1, EpochShuffleState = new Rng(15).State, ModelRngState = new Rng(16).State, EpochLossSum = 4.25, EpochTermSums = new() { ["hinge"] = 4.25 } };
            Checkpoint.Save(Path.Combine(dir, "scan_checkpoint.safetensors"), scan, vocab, new HingeObjective(scan, new TrainingRecipe()), options, state);
            Checkpoint.Save(Path.Combine(dir, "vsepp_checkpoint.safetensors"), vse, vocab, new HingeObjective(vse, new TrainingRecipe()), options, state);
            foreach (var f in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                seeds.Add(FuzzSeed.Single("generated/" + Path.GetFileName(f), File.ReadAllBytes(f)));
            return seeds;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Gallery index files written by our own writer from <see cref="PrecompSplit"/>: VSE++ (pooled vectors only) and
    /// SCAN (with float16 row sets), each with the exact, int8 and HNSW structures, images and captions.
    /// </summary>
    public static IReadOnlyList<FuzzSeed> Galleries()
    {
        string dir = Directory.CreateTempSubdirectory("crossmodal-fuzz-seeds-").FullName;
        try
        {
            foreach (var (name, bytes) in PrecompSplit().Files) File.WriteAllBytes(Path.Combine(dir, name), bytes);
            string vocab = CaptionVocabulary.ToJson();
            var seeds = new List<FuzzSeed>();
            MatchingModel[] models =
            [
                new VseModel(new VseConfig { ImgDim = 4, EmbedSize = 5, WordDim = 3, VocabSize = CaptionVocabulary.Count }, new Rng(17)),
                new ScanModel(new ScanConfig { ImgDim = 4, EmbedSize = 5, WordDim = 3, VocabSize = CaptionVocabulary.Count }, new Rng(18)),
            ];
            foreach (var model in models)
            {
                string checkpoint = Path.Combine(dir, model.Family.Name + ".safetensors");
                ModelFile.Save(checkpoint, model, vocab);
                var handle = ModelHandle.Load(checkpoint);
                using var data = PrecompDataset.Open(dir, "train", handle.Vocabulary);
                foreach (var kind in new[] { VectorIndexKind.Exact, VectorIndexKind.Int8, VectorIndexKind.Hnsw })
                {
                    string path = Path.Combine(dir, $"{model.Family.Name}_{kind.ToString().ToLowerInvariant()}.index");
                    using (var gallery = GalleryIndex.Create(handle, CheckpointIdentity.Of(checkpoint), kind, data.Regions, data.FeatureDim, withCaptions: true))
                    {
                        GalleryBuilder.AddPrecomp(gallery, handle, data, "images");
                        gallery.Save(path);
                    }
                    seeds.Add(FuzzSeed.Single("generated/" + Path.GetFileName(path), File.ReadAllBytes(path)));
                }
            }
            return seeds;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static byte[] Utf8(string text) => new UTF8Encoding(false).GetBytes(text);

    private static byte[] NpyBytes(float[] values, int[] shape)
    {
        var header = Tensors.IO.NpyHeader.Build("<f4", shape);
        var bytes = new byte[header.Length + values.Length * 4];
        header.CopyTo(bytes, 0);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes.AsSpan(header.Length));
        return bytes;
    }
}
