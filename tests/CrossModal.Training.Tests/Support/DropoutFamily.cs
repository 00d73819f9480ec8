using System.Runtime.CompilerServices;
using CrossModal.Models;
using CrossModal.Models.Encoders;
using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Training.Tests.Support;

/// <summary>
/// A test family with dropout: VSE++ whose image embedding goes through Dropout(p) driven by the model's
/// <see cref="RetrievalModel.Noise"/>, so that a resumed run is exact only if the trainer saves and restores the
/// model's random state. Registered for this test assembly only.
/// </summary>
internal sealed class DropoutFamily : ModelFamily<DropoutConfig, DropoutModel>
{
    public const string FamilyName = "test-dropout";

    public override string Name => FamilyName;

    public override string Description => "test only: VSE++ with dropout on the image embedding";

    public override ImageFeatures ImageFeatures => ImageFeatures.VectorOrRegions;

    protected override DropoutConfig Defaults => new();

    public override DropoutModel Create(DropoutConfig config, Rng rng) => new(config, rng);

    [ModuleInitializer]
    internal static void Register() => ModelFamilies.Register(new DropoutFamily());
}

internal sealed record DropoutConfig : MatchingConfig
{
    public override string Model => DropoutFamily.FamilyName;

    [Flag("dropout probability on the image embedding")]
    public float Dropout { get; init; } = 0.5f;
}

internal sealed class DropoutModel : MatchingModel
{
    private readonly ImageEncoderPrecomp _image;
    private readonly Dropout _dropout;
    private readonly TextEncoderGru _text;

    public DropoutModel(DropoutConfig config, Rng rng) : base(config)
    {
        _image = RegisterModule("img_enc", new ImageEncoderPrecomp(config.ImgDim, config.EmbedSize, rng, noImgNorm: false, eps: 0f, poolRegions: true));
        _dropout = RegisterModule("drop", new Dropout(config.Dropout, Noise));
        _text = RegisterModule("txt_enc", new TextEncoderGru(config.VocabSize, config.WordDim, config.EmbedSize, 1, false, perWord: false, noTxtNorm: false, eps: 0f, rng));
    }

    public override Tensor EncodeImages(Tensor features) => _dropout.Forward(_image.Forward(features));

    public override Tensor EncodeCaptions(int[] tokens, int[] lengths, int maxLength) => _text.Forward(tokens, lengths, maxLength);

    public override Tensor Scores(Tensor images, Tensor captions, int[] captionLengths) => Ops.MatMul(images, captions, transB: true);

    public override int EvaluationShardSize => int.MaxValue;

    public override void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo) =>
        Tensors.Kernels.Gemm.Multiply(false, true, i1 - i0, j1 - j0, images.Dim, 1f, images.Items(i0, i1 - i0), images.Dim, captions.Items(j0, j1 - j0), captions.Dim, 0f, output, ldo);
}
