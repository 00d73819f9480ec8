using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Models.Files;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Search;
using CrossModal.Search.Gallery;
using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Serve.Tests;

/// <summary>
/// One gallery index file shared by the API tests, built here as `crossmodal index build` builds it: the 125 f8k-1k
/// test images (real SqueezeNet grid features, 36 x 512, their JPEGs as paths, their captions) encoded by a small
/// SCAN t2i model saved as a checkpoint (random weights: the tests check the server's plumbing against the model's
/// own scores, not retrieval quality), with SqueezeNet recorded as the pipeline for image queries. The server opens
/// the file as `crossmodal serve --index` does.
/// </summary>
public sealed class ServeFixture : IDisposable
{
    private readonly TempFolder _folder = new("crossmodal-serve-");

    public ServeFixture()
    {
        Vocabulary = Vocabulary.Load(TestData.Path("vocab", "f8k_precomp_vocab.json"));
        CheckpointPath = SaveCheckpoint(new ScanModel(new ScanConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = Vocabulary.Count, LambdaSoftmax = 9 }, new Rng(7)), "scan.safetensors");
        IndexPath = BuildIndex(CheckpointPath, "scan.index", "test", ImagesDirectory, captions: true);
        Gallery = Gallery.Open(IndexPath);
        Gallery.WaitForCaptions();
        Scan = Gallery.Model;
        Encoder = ImageQueryEncoder.FromPipeline(Gallery.Index.Metadata.ImageFeatures!, IndexPath);
    }

    public static string DataDirectory => TestData.Path("f8k-1k-precomp");

    public static string ImagesDirectory => TestData.Path("f8k-1k", "images");

    public static string OnnxPath => TestData.Path("squeezenet", "SqueezeNet_fp16.onnx");

    public Vocabulary Vocabulary { get; }

    /// <summary>The SCAN checkpoint the shared index records.</summary>
    public string CheckpointPath { get; }

    /// <summary>The shared index file.</summary>
    public string IndexPath { get; }

    /// <summary>The model, as the server loaded it from the index's checkpoint.</summary>
    public ModelHandle Scan { get; }

    public Gallery Gallery { get; }

    public ImageQueryEncoder Encoder { get; }

    /// <summary>A path in the fixture's temporary folder.</summary>
    public string File(string name) => _folder.File(name);

    /// <summary>Saves <paramref name="model"/> (in evaluation mode) as a checkpoint in the fixture's folder.</summary>
    public string SaveCheckpoint(MatchingModel model, string name)
    {
        model.Eval();
        string path = _folder.File(name);
        ModelFile.Save(path, model, Vocabulary.ToJson());
        return path;
    }

    /// <summary>A VSE++ checkpoint over averaged regions.</summary>
    public string VseCheckpoint() =>
        SaveCheckpoint(new VseModel(new VseConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = Vocabulary.Count }, new Rng(8)), $"vse-{Guid.NewGuid():N}.safetensors");

    /// <summary>
    /// Builds an index file of <paramref name="split"/> with CrossModal.Search's builder (what `crossmodal index build
    /// --data --split --image-root [--captions] --onnx` does) and returns its path.
    /// </summary>
    public string BuildIndex(string checkpoint, string name, string split, string? imageRoot, bool captions)
    {
        var model = ModelHandle.Load(checkpoint);
        using var data = PrecompDataset.Open(DataDirectory, split, model.Vocabulary);
        var pipeline = new ImagePipeline { Onnx = CheckpointIdentity.Of(OnnxPath), Layer = "fire9/concat_1", Grid = 6 };
        using var index = GalleryIndex.Create(model, CheckpointIdentity.Of(checkpoint), VectorIndexKind.Exact, data.Regions, data.FeatureDim, captions, pipeline);
        GalleryBuilder.AddPrecomp(index, model, data, imageRoot);
        string path = _folder.File(name);
        index.Save(path);
        return path;
    }

    public void Dispose()
    {
        Gallery.Dispose();
        _folder.Dispose();
    }
}
