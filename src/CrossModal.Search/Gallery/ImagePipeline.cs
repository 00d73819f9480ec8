using System.Text.Json.Serialization;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Features;

namespace CrossModal.Search.Gallery;

/// <summary>
/// How images become the model's input features: an ONNX CNN, the layer taken, grid pooling and the
/// preprocessing (the options of <c>crossmodal features</c>). A gallery records it so that a query image goes
/// through exactly the pipeline its images went through.
/// </summary>
public sealed record ImagePipeline
{
    /// <summary>The ONNX model file and its hash.</summary>
    [JsonPropertyName("onnx")] public required CheckpointIdentity Onnx { get; init; }

    /// <summary>The value taken (N x C x H x W), e.g. fire9/concat_1.</summary>
    [JsonPropertyName("layer")] public required string Layer { get; init; }

    /// <summary>Grid cells per side (G x G regions), or 0 for the global mean.</summary>
    [JsonPropertyName("grid")] public required int Grid { get; init; }

    /// <summary>Network input size (square).</summary>
    [JsonPropertyName("size")] public int Size { get; init; } = 224;

    /// <summary>B, G, R planes (Caffe models) rather than R, G, B.</summary>
    [JsonPropertyName("bgr")] public bool Bgr { get; init; } = true;

    /// <summary>Pixel scale before the mean.</summary>
    [JsonPropertyName("scale")] public float Scale { get; init; } = 1f;

    /// <summary>Per-channel mean, in the fed channel order.</summary>
    [JsonPropertyName("mean")] public float[] Mean { get; init; } = [0f, 0f, 0f];

    /// <summary>Per-channel std, in the fed channel order.</summary>
    [JsonPropertyName("std")] public float[] Std { get; init; } = [1f, 1f, 1f];

    /// <summary>Regions per image the pipeline writes (G², or 0 for one vector).</summary>
    [JsonIgnore] public int Regions => Grid * Grid;

    /// <summary>
    /// A feature extractor for this pipeline, after checking that the ONNX file is the recorded one
    /// (<paramref name="onnxPath"/> overrides the recorded path, e.g. on another machine).
    /// </summary>
    public FeatureExtractor CreateExtractor(string gallery, string? onnxPath = null, int batchSize = 16)
    {
        string path = onnxPath ?? Onnx.Path;
        Onnx.Verify(path, "ONNX model", gallery);
        var runtime = CnnRuntime.Load(path);
        return new FeatureExtractor(runtime, Layer, new ImagePreprocessing(Size, Size, Bgr, Scale, Mean, Std), Grid, batchSize);
    }
}
