using CrossModal.Models;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Text;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Features;

namespace CrossModal.Serve.Tests;

/// <summary>
/// One gallery shared by the API tests: the 125 f8k-1k test images (real SqueezeNet grid features, 36 x 512, and
/// their JPEGs) encoded by a small SCAN t2i model made here (random weights: the tests check the server's
/// plumbing against the model's own scores, not retrieval quality), and SqueezeNet for image queries.
/// </summary>
public sealed class ServeFixture : IDisposable
{
    public ServeFixture()
    {
        Vocabulary = Vocabulary.Load(TestData.Path("vocab", "f8k_precomp_vocab.json"));
        Scan = Handle(new ScanModel(new ScanConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = Vocabulary.Count, LambdaSoftmax = 9 }, new Rng(7)));
        Gallery = GalleryBuilder.FromPrecomp(Scan, DataDirectory, ["test"], ImagesDirectory);
        Gallery.WaitForCaptions();
        var runtime = CnnRuntime.Load(TestData.Path("squeezenet", "SqueezeNet_fp16.onnx"));
        Encoder = new ImageQueryEncoder(runtime, "fire9/concat_1", ImagePreprocessing.SqueezeNetCaffe);
    }

    public static string DataDirectory => TestData.Path("f8k-1k-precomp");

    public static string ImagesDirectory => TestData.Path("f8k-1k", "images");

    public Vocabulary Vocabulary { get; }

    public ModelHandle Scan { get; }

    public Gallery Gallery { get; }

    public ImageQueryEncoder Encoder { get; }

    /// <summary>A VSE++ handle over averaged regions (for region contributions).</summary>
    public ModelHandle Vse() => Handle(new VseModel(new VseConfig { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = Vocabulary.Count }, new Rng(8)));

    private ModelHandle Handle(MatchingModel model)
    {
        model.Eval();
        return new ModelHandle(model, Vocabulary, "test model");
    }

    public void Dispose() => Gallery.Dispose();
}
