using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Features;

namespace CrossModal.Vision.Tests.Features;

/// <summary>
/// The whole pipeline (Pillow-exact decode and resize, SqueezeNet fire9/concat, 6x6 adaptive pooling) against the
/// shipped f8k-fixture40 arrays, which a numpy re-implementation computed from Pillow-decoded images.
/// </summary>
public class FeatureExtractorTests
{
    private static readonly Lazy<CnnRuntime> SqueezeNet = new(() => CnnRuntime.Load(TestData.Path("squeezenet", "SqueezeNet_fp16.onnx")));

    private static string[] Images(int count) =>
        File.ReadAllLines(TestData.Path("f8k-fixture40", "images.txt")).Where(l => l.Length > 0).Take(count)
            .Select(n => TestData.Path("f8k-fixture40", "images", n)).ToArray();

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double d = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return d / Math.Sqrt(na * nb);
    }

    [Fact]
    public void Should_ReproduceShippedGridFeatures_OnFixtureImages()
    {
        var expected = Npy.ReadFloat32(TestData.Path("f8k-fixture40", "ims_squeezenet_grid36x512.npy"));
        var extractor = new FeatureExtractor(SqueezeNet.Value, "fire9/concat_1", ImagePreprocessing.SqueezeNetCaffe, grid: 6, batchSize: 3);
        var seen = new List<int>();
        var summary = extractor.Extract(Images(5), (i, row) =>
        {
            seen.Add(i);
            var e = expected.Data.Slice(i * 36 * 512, 36 * 512);
            Assert.True(Cosine(e, row) >= 0.99999, $"image {i}: cosine {Cosine(e, row)}");
            for (int k = 0; k < row.Length; k++)
                Assert.True(Math.Abs(e[k] - row[k]) <= 1e-3 + 1e-5 * Math.Abs(e[k]), $"image {i} value {k}: {row[k]} vs {e[k]}");
        }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, seen);
        Assert.Equal(new[] { 36, 512 }, summary.RowShape);
        Assert.Empty(summary.Failures);
    }

    [Fact]
    public void Should_ReproduceShippedGlobalFeatures()
    {
        var expected = Npy.ReadFloat32(TestData.Path("f8k-fixture40", "ims_squeezenet_global512.npy"));
        var extractor = new FeatureExtractor(SqueezeNet.Value, "fire9/concat_1", ImagePreprocessing.SqueezeNetCaffe, grid: 0);
        var summary = extractor.Extract(Images(2), (i, row) =>
        {
            var e = expected.Data.Slice(i * 512, 512);
            for (int k = 0; k < 512; k++) Assert.True(Math.Abs(e[k] - row[k]) <= 1e-3, $"image {i} channel {k}: {row[k]} vs {e[k]}");
        }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(new[] { 512 }, summary.RowShape);
    }

    [Fact]
    public void Should_SkipAndReportUnreadableImages_AndContinue()
    {
        string dir = Directory.CreateTempSubdirectory("cm-vision-").FullName;
        try
        {
            var good = Images(2);
            string corrupt = Path.Combine(dir, "corrupt.jpg");
            File.WriteAllBytes(corrupt, File.ReadAllBytes(good[0]).AsSpan(0, 2000).ToArray());
            string missing = Path.Combine(dir, "missing.jpg");
            var paths = new[] { good[0], corrupt, missing, good[1] };
            var delivered = new List<int>();
            var extractor = new FeatureExtractor(SqueezeNet.Value, "fire9/concat_1", ImagePreprocessing.SqueezeNetCaffe, grid: 6, batchSize: 4);
            var summary = extractor.Extract(paths, (i, _) => delivered.Add(i), cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(new[] { 0, 3 }, delivered);
            Assert.Equal(2, summary.Succeeded);
            Assert.Equal(new[] { 1, 2 }, summary.Failures.Select(f => f.Index));
            Assert.Contains("corrupt.jpg", summary.Failures[0].Message);
            Assert.Contains("truncated", summary.Failures[0].Message);
            Assert.Contains("missing.jpg", summary.Failures[1].Message);

            // The writer turns the delivered rows into one .npy of the right shape.
            string npy = Path.Combine(dir, "out.npy");
            using (var writer = new FeatureFileWriter(npy))
            {
                writer.Append(new float[] { 1, 2, 3, 4, 5, 6 });
                writer.Append(new float[] { 7, 8, 9, 10, 11, 12 });
                writer.Complete(new[] { 3, 2 });
            }
            var back = Npy.ReadFloat32(npy);
            Assert.Equal(new[] { 2, 3, 2 }, back.Shape);
            Assert.Equal(12f, back[11]);
            Assert.Empty(Directory.GetFiles(dir, "*.rows")); // the spool file is gone
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
