using CrossModal.Search.Gallery;
using CrossModal.Tensors;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Features;
using CrossModal.Vision.Imaging;

namespace CrossModal.Serve;

/// <summary>
/// Turns an uploaded image into the features the gallery was made of: decode (JPEG/PNG), preprocess, run the CNN
/// to <see cref="Layer"/>, pool the map to the gallery's grid (or its global mean). Must be configured like the
/// extraction that made the gallery's features (for the f8k data: SqueezeNet 1.1, fire9/concat_1, 224 x 224, BGR).
/// </summary>
public sealed class ImageQueryEncoder
{
    /// <summary>Creates the encoder for a loaded network.</summary>
    public ImageQueryEncoder(CnnRuntime runtime, string layer, ImagePreprocessing preprocessing)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        if (!runtime.ValueNames.Contains(layer)) throw new ArgumentException($"{runtime.Model.Source} has no layer output named '{layer}'.");
        Runtime = runtime;
        Layer = layer;
        Preprocessing = preprocessing;
    }

    /// <summary>
    /// The encoder for the pipeline a gallery index records (<c>crossmodal index build --onnx ...</c>), after checking
    /// that the ONNX file (the recorded path, or <paramref name="onnxPath"/>) has the recorded SHA-256.
    /// </summary>
    public static ImageQueryEncoder FromPipeline(ImagePipeline pipeline, string gallery, string? onnxPath = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        string path = onnxPath ?? pipeline.Onnx.Path;
        pipeline.Onnx.Verify(path, "ONNX model", gallery);
        return new ImageQueryEncoder(CnnRuntime.Load(path), pipeline.Layer,
            new ImagePreprocessing(pipeline.Size, pipeline.Size, pipeline.Bgr, pipeline.Scale, pipeline.Mean, pipeline.Std));
    }

    /// <summary>The network.</summary>
    public CnnRuntime Runtime { get; }

    /// <summary>The value features are taken from.</summary>
    public string Layer { get; }

    /// <summary>How an image becomes the network's input.</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>
    /// Features of one image: grid x grid regions x channels (grid 0: one global vector). The channel count must
    /// equal <paramref name="featureDim"/>.
    /// </summary>
    public float[] Encode(ReadOnlySpan<byte> image, int grid, int featureDim, CancellationToken cancellationToken)
    {
        var rgb = ImageDecoder.Decode(image, "uploaded image");
        using var scope = TensorScope.Begin();
        var input = Tensor.Empty(1, 3, Preprocessing.Height, Preprocessing.Width);
        Preprocessing.Apply(rgb, input.Data);
        var map = Runtime.Run(input, Layer, cancellationToken);
        if (map.Rank != 4 || map.Dim(1) != featureDim)
            throw new InvalidOperationException($"{Runtime.Model.Source}: layer '{Layer}' gives {Tensor.FormatShape(map.ShapeSpan)}; the gallery needs [1, {featureDim}, H, W].");
        int c = map.Dim(1), h = map.Dim(2), w = map.Dim(3);
        var row = new float[grid > 0 ? grid * grid * c : c];
        if (grid > 0) GridFeatures.AdaptiveAveragePool(map.Data, c, h, w, grid, row);
        else GridFeatures.GlobalMean(map.Data, c, h, w, row);
        return row;
    }
}
