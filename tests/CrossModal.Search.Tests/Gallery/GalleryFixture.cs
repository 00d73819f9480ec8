using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Search.Tests.Gallery;

/// <summary>
/// A tiny precomp folder and an untrained model of one family saved as a checkpoint file (the scores only need to
/// vary): what the gallery tests build indexes from.
/// </summary>
internal sealed class GalleryFixture : IDisposable
{
    public GalleryFixture(string family, int testImages = 40, ulong seed = 1, bool imageToText = false)
    {
        Regions = family == "scan" ? 3 : 0;
        Data = new TinyPrecomp(trainImages: 2, devImages: 2, testImages: testImages, regions: Regions, seed: seed);
        Vocabulary = Vocabulary.Load(Data.VocabPath);
        MatchingConfig config = family == "scan"
            ? new ScanConfig { ImgDim = 8, EmbedSize = 12, WordDim = 6, VocabSize = Vocabulary.Count, CrossAttn = imageToText ? AttentionDirection.ImageToText : AttentionDirection.TextToImage }
            : new VseConfig { ImgDim = 8, EmbedSize = 12, WordDim = 6, VocabSize = Vocabulary.Count };
        CheckpointPath = Path.Combine(Data.Directory, "model.safetensors");
        var model = config.Family.Create(config, new Rng(seed));
        ModelFile.Save(CheckpointPath, model, Data.VocabJson);
        Model = ModelHandle.Load(CheckpointPath);
        Test = PrecompDataset.Open(Data.Directory, "test", Vocabulary);
    }

    public TinyPrecomp Data { get; }

    public int Regions { get; }

    public Vocabulary Vocabulary { get; }

    public string CheckpointPath { get; }

    public ModelHandle Model { get; }

    public PrecompDataset Test { get; }

    public string File(string name) => Path.Combine(Data.Directory, name);

    /// <summary>The model's full similarity matrix of the test split's images x the given captions (brute force).</summary>
    public float[] FullScores(IReadOnlyList<string> texts)
    {
        var images = Model.EncodeImages(Test);
        var captions = Model.EncodeText(texts);
        var s = new float[images.Count * captions.Count];
        Model.ScoreBlock(images, 0, images.Count, captions, 0, captions.Count, s, captions.Count);
        return s;
    }

    public void Dispose()
    {
        Test.Dispose();
        Data.Dispose();
    }
}
