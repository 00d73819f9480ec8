using CrossModal.Models.Attention;
using CrossModal.Models.Encoders;
using CrossModal.Models.Files;
using CrossModal.Models.Objectives;
using CrossModal.Tensors;

namespace CrossModal.Models.Scan;

/// <summary>SCAN, Stacked Cross Attention (Lee et al., ECCV 2018; kuanghuei/SCAN) on region features.</summary>
public sealed class ScanFamily : ModelFamily<ScanConfig, ScanModel>
{
    /// <summary>The family's name.</summary>
    public const string FamilyName = "scan";

    /// <inheritdoc/>
    public override string Name => FamilyName;

    /// <inheritdoc/>
    public override string Description => "SCAN (Lee et al., ECCV 2018): stacked cross attention between words and regions, t2i or i2t";

    /// <inheritdoc/>
    protected override ScanConfig Defaults => new();

    /// <summary>The SCAN README's command lines (all add --max_violation --bi_gru); COCO: 20 epochs, lr 5e-4 decayed at 10.</summary>
    public override IReadOnlyList<Preset> Presets { get; } =
    [
        Scan("scan-t2i-lse", "SCAN t-i LSE (Flickr30K): λ1 9, λ2 6", AttentionDirection.TextToImage, Aggregation.LogSumExp, 9, 6, coco: false),
        Scan("scan-t2i-avg", "SCAN t-i AVG (Flickr30K): λ1 9", AttentionDirection.TextToImage, Aggregation.Mean, 9, 6, coco: false),
        Scan("scan-i2t-lse", "SCAN i-t LSE (Flickr30K): λ1 4, λ2 5", AttentionDirection.ImageToText, Aggregation.LogSumExp, 4, 5, coco: false),
        Scan("scan-i2t-avg", "SCAN i-t AVG (Flickr30K): λ1 4", AttentionDirection.ImageToText, Aggregation.Mean, 4, 6, coco: false),
        Scan("scan-t2i-lse-coco", "SCAN t-i LSE (COCO): λ1 9, λ2 6, 20 epochs, lr 5e-4 decayed at 10", AttentionDirection.TextToImage, Aggregation.LogSumExp, 9, 6, coco: true),
        Scan("scan-t2i-avg-coco", "SCAN t-i AVG (COCO): λ1 9, 20 epochs, lr 5e-4 decayed at 10", AttentionDirection.TextToImage, Aggregation.Mean, 9, 6, coco: true),
        Scan("scan-i2t-lse-coco", "SCAN i-t LSE (COCO): λ1 4, λ2 20, 20 epochs, lr 5e-4 decayed at 10", AttentionDirection.ImageToText, Aggregation.LogSumExp, 4, 20, coco: true),
        Scan("scan-i2t-avg-coco", "SCAN i-t AVG (COCO): λ1 4, 20 epochs, lr 5e-4 decayed at 10", AttentionDirection.ImageToText, Aggregation.Mean, 4, 6, coco: true),
    ];

    private static Preset Scan(string name, string description, AttentionDirection direction, Aggregation agg, float l1, float l2, bool coco) =>
        Preset.For<ScanConfig>(FamilyName, name, description,
            c => c with { CrossAttn = direction, AggFunc = agg, LambdaSoftmax = l1, LambdaLse = l2, BiGru = true },
            r => coco ? r with { MaxViolation = true, NumEpochs = 20, LrUpdate = 10, LearningRate = 5e-4f } : r with { MaxViolation = true });

    /// <inheritdoc/>
    public override ScanModel Create(ScanConfig config, Rng rng) => new(config, rng);

    /// <summary>SCAN's train.py has <c>--cross_attn</c>.</summary>
    public override bool Recognizes(OriginalCheckpoint checkpoint) => checkpoint.Options.ContainsKey("cross_attn");

    /// <summary>Options map one-to-one (absent ones take the original parser's defaults); sizes fall back to the weights' shapes.</summary>
    public override ImportedModel Import(OriginalCheckpoint checkpoint)
    {
        var opt = checkpoint.Options;
        var (image, text) = checkpoint.Weights;
        var config = new ScanConfig
        {
            ImgDim = image.TryGetValue("fc.weight", out var fc) ? fc.Dim(1) : image.TryGetValue("fc.weight_v", out var fv) ? fv.Dim(1) : opt.GetInt("img_dim"),
            EmbedSize = opt.GetInt("embed_size"),
            WordDim = opt.GetInt("word_dim"),
            VocabSize = text.TryGetValue("embed.weight", out var embed) ? embed.Dim(0) : opt.GetInt("vocab_size"),
            NumLayers = opt.GetInt("num_layers", 1),
            NoImgNorm = opt.GetBool("no_imgnorm", false),
            NoTxtNorm = opt.GetBool("no_txtnorm", false),
            BiGru = opt.GetBool("bi_gru", false),
            PrecompEncType = Choice<ImageEncoderType>(opt.GetString("precomp_enc_type", "basic"), "precomp_enc_type"),
            CrossAttn = Choice<AttentionDirection>(opt.GetString("cross_attn"), "cross_attn"),
            RawFeatureNorm = Choice<RawFeatureNorm>(opt.GetString("raw_feature_norm", "clipped_l2norm"), "raw_feature_norm"),
            AggFunc = Choice<Aggregation>(opt.GetString("agg_func", "LogSumExp"), "agg_func"),
            LambdaSoftmax = (float)opt.GetDouble("lambda_softmax", 9.0),
            LambdaLse = (float)opt.GetDouble("lambda_lse", 6.0),
        };
        return new ImportedModel(config, checkpoint.EncoderState());
    }

    private static T Choice<T>(string value, string option) where T : struct, Enum =>
        FlagValues.Parse<T>(value, option);
}
