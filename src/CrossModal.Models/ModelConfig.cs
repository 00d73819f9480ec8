using System.Text.Json;
using System.Text.Json.Serialization;

namespace CrossModal.Models;

/// <summary>
/// Everything needed to rebuild a model: the method and its hyper-parameters, named after the original command-line
/// flags. Stored as JSON in every checkpoint's metadata, so a checkpoint carries its own configuration.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>"vsepp" or "scan".</summary>
    public string Model { get; init; } = "vsepp";

    /// <summary>Image feature size (2048 for BUTD regions, 4096 for VGG fc7, 512 for the f8k SqueezeNet features).</summary>
    public int ImgDim { get; init; } = 2048;

    /// <summary>Joint embedding size.</summary>
    public int EmbedSize { get; init; } = 1024;

    /// <summary>Word embedding size.</summary>
    public int WordDim { get; init; } = 300;

    /// <summary>Vocabulary size (rows of the word embedding).</summary>
    public int VocabSize { get; init; }

    /// <summary>GRU layers.</summary>
    public int NumLayers { get; init; } = 1;

    /// <summary>Skip the image L2 normalisation (VSE0's --no_imgnorm).</summary>
    [JsonPropertyName("no_imgnorm")]
    public bool NoImgNorm { get; init; }

    /// <summary>Skip the per-word L2 normalisation (SCAN's --no_txtnorm).</summary>
    [JsonPropertyName("no_txtnorm")]
    public bool NoTxtNorm { get; init; }

    /// <summary>Bidirectional text GRU with averaged directions (SCAN's --bi_gru).</summary>
    public bool BiGru { get; init; }

    /// <summary>SCAN image encoder: "basic" or "weight_norm".</summary>
    public string PrecompEncType { get; init; } = "basic";

    /// <summary>SCAN direction: "t2i" (words attend to regions) or "i2t".</summary>
    public string CrossAttn { get; init; } = "t2i";

    /// <summary>SCAN raw-feature normalisation: clipped_l2norm, l2norm, softmax, clipped, no_norm.</summary>
    public string RawFeatureNorm { get; init; } = "clipped_l2norm";

    /// <summary>SCAN aggregation: LogSumExp, Mean, Max, Sum.</summary>
    public string AggFunc { get; init; } = "LogSumExp";

    /// <summary>SCAN attention temperature λ1.</summary>
    public float LambdaSoftmax { get; init; } = 9f;

    /// <summary>SCAN LogSumExp temperature λ2.</summary>
    public float LambdaLse { get; init; } = 6f;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Serialises with the original flag names (snake_case).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a configuration written by <see cref="ToJson"/>.</summary>
    public static ModelConfig FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelConfig>(json, Json) ?? throw new InvalidDataException($"{source}: empty model configuration.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: model configuration is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Checks the values; returns the first problem as an exception message, or throws.</summary>
    public void Validate()
    {
        static void Need(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Need(Model is "vsepp" or "scan", $"Unknown model '{Model}' (expected vsepp or scan).");
        Need(ImgDim > 0 && EmbedSize > 0 && WordDim > 0, "img_dim, embed_size and word_dim must be positive.");
        Need(VocabSize > 4, $"vocab_size {VocabSize} is too small (the four special tokens alone need 4).");
        Need(NumLayers >= 1, "num_layers must be at least 1.");
        Need(PrecompEncType is "basic" or "weight_norm", $"Unknown precomp_enc_type '{PrecompEncType}' (expected basic or weight_norm).");
        Need(CrossAttn is "t2i" or "i2t", $"Unknown cross_attn '{CrossAttn}' (expected t2i or i2t).");
        Need(RawFeatureNorm is "clipped_l2norm" or "l2norm" or "softmax" or "clipped" or "no_norm",
            $"Unknown raw_feature_norm '{RawFeatureNorm}' (expected clipped_l2norm, l2norm, softmax, clipped or no_norm).");
        Need(AggFunc is "LogSumExp" or "Mean" or "Max" or "Sum", $"Unknown agg_func '{AggFunc}' (expected LogSumExp, Mean, Max or Sum).");
    }
}
