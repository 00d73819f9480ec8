using CrossModal.Tensors;
using CrossModal.Tensors.Threading;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Imaging;

namespace CrossModal.Vision.Features;

/// <summary>
/// Image files to feature vectors: decode (JPEG/PNG), preprocess (<see cref="ImagePreprocessing"/>), run the CNN up
/// to <see cref="Layer"/>, then pool the [C, H, W] map into a <see cref="Grid"/> x Grid grid of region vectors
/// ([Grid*Grid, C], row-major cells) or, with Grid = 0, one global mean vector ([C]). Images are processed in
/// batches: decoding is spread over the cores image by image, the network over the batch. An image that cannot
/// be read (missing, corrupt, truncated, unsupported) is reported and skipped; the others go on.
/// </summary>
public sealed class FeatureExtractor
{
    /// <summary>Creates an extractor.</summary>
    /// <param name="runtime">The network.</param>
    /// <param name="layer">The value to take features from, e.g. "fire9/concat_1" (must be [N, C, H, W]).</param>
    /// <param name="preprocessing">How images become inputs.</param>
    /// <param name="grid">Grid size G for G*G regions, or 0 for the global mean.</param>
    /// <param name="batchSize">Images per network call.</param>
    public FeatureExtractor(CnnRuntime runtime, string layer, ImagePreprocessing preprocessing, int grid, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(preprocessing);
        if (grid < 0) throw new ArgumentException($"Grid must be 0 (global) or positive, got {grid}.", nameof(grid));
        if (batchSize < 1) throw new ArgumentException($"Batch size must be positive, got {batchSize}.", nameof(batchSize));
        if (!runtime.ValueNames.Contains(layer))
        {
            var similar = runtime.ValueNames.Where(v => v.Contains(layer, StringComparison.OrdinalIgnoreCase)).Take(5).ToArray();
            throw new ArgumentException($"{runtime.Model.Source} has no layer output named '{layer}'" +
                (similar.Length > 0 ? $"; did you mean {string.Join(", ", similar.Select(s => "'" + s + "'"))}?" : "."));
        }
        Runtime = runtime;
        Layer = layer;
        Preprocessing = preprocessing;
        Grid = grid;
        BatchSize = batchSize;
    }

    /// <summary>The network.</summary>
    public CnnRuntime Runtime { get; }

    /// <summary>The value features are taken from.</summary>
    public string Layer { get; }

    /// <summary>How images become inputs.</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>Grid size (0 = global mean).</summary>
    public int Grid { get; }

    /// <summary>Images per network call.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// Extracts features of <paramref name="imagePaths"/> in order, handing each image's features to
    /// <paramref name="onFeatures"/> (input index, values of <see cref="FeatureSummary.RowShape"/>) as soon as its
    /// batch is done. Unreadable images are skipped and listed in the summary.
    /// </summary>
    public FeatureSummary Extract(IReadOnlyList<string> imagePaths, Action<int, ReadOnlySpan<float>> onFeatures,
        IProgress<FeatureProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        ArgumentNullException.ThrowIfNull(onFeatures);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var failures = new List<ImageFailure>();
        int[]? rowShape = null;
        int succeeded = 0;
        int inputSize = 3 * Preprocessing.Width * Preprocessing.Height;
        var errors = new string?[BatchSize];
        var buffer = new float[BatchSize * inputSize];

        for (int start = 0; start < imagePaths.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(BatchSize, imagePaths.Count - start);
            Array.Clear(errors);
            Parallelism.For(count, 1, (s, e) =>
            {
                for (int i = s; i < e; i++)
                {
                    try
                    {
                        var image = ImageDecoder.Decode(imagePaths[start + i]);
                        Preprocessing.Apply(image, buffer.AsSpan(i * inputSize, inputSize));
                    }
                    catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
                    {
                        errors[i] = ex.Message;
                    }
                }
            });

            // Pack the readable images together and run them as one batch.
            var good = new List<int>(count);
            for (int i = 0; i < count; i++)
            {
                if (errors[i] is { } message) failures.Add(new ImageFailure(start + i, imagePaths[start + i], message));
                else
                {
                    if (good.Count != i) buffer.AsSpan(i * inputSize, inputSize).CopyTo(buffer.AsSpan(good.Count * inputSize, inputSize));
                    good.Add(i);
                }
            }
            if (good.Count > 0)
            {
                var input = Tensor.FromArray(good.Count * inputSize == buffer.Length ? buffer : buffer[..(good.Count * inputSize)],
                    good.Count, 3, Preprocessing.Height, Preprocessing.Width);
                var map = Runtime.Run(input, Layer, cancellationToken);
                if (map.Rank != 4) throw new ArgumentException($"{Runtime.Model.Source}: layer '{Layer}' has shape {Tensor.FormatShape(map.ShapeSpan)}; grid features need [N, C, H, W].");
                int c = map.Dim(1), h = map.Dim(2), w = map.Dim(3);
                rowShape ??= Grid > 0 ? new[] { Grid * Grid, c } : new[] { c };
                var row = new float[Grid > 0 ? Grid * Grid * c : c];
                for (int j = 0; j < good.Count; j++)
                {
                    var plane = map.Data.Slice(j * c * h * w, c * h * w);
                    if (Grid > 0) GridFeatures.AdaptiveAveragePool(plane, c, h, w, Grid, row);
                    else GridFeatures.GlobalMean(plane, c, h, w, row);
                    onFeatures(start + good[j], row);
                    succeeded++;
                }
            }
            progress?.Report(new FeatureProgress(start + count, imagePaths.Count, failures.Count, (start + count) / Math.Max(1e-9, sw.Elapsed.TotalSeconds)));
        }
        return new FeatureSummary(rowShape ?? Array.Empty<int>(), succeeded, failures, sw.Elapsed.TotalSeconds);
    }
}
