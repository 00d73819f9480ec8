using CrossModal.Tensors.Linalg;

namespace CrossModal.Models.CategoryBaselines;

/// <summary>
/// Regularised canonical correlation analysis (Hotelling 1936; as a cross-modal baseline Rasiwasia et al. 2010),
/// fitted in closed form in double precision:
/// centre both modalities with the training means; Cxx = Xc^T Xc / (n - 1) + r I, Cyy likewise, Cxy = Xc^T Yc / (n - 1);
/// whiten with Cxx^(-1/2) and Cyy^(-1/2) (symmetric inverse square roots from <see cref="SymmetricEigen"/>); the
/// leading singular vectors of Cxx^(-1/2) Cxy Cyy^(-1/2) give the directions Wx = Cxx^(-1/2) U, Wy = Cyy^(-1/2) V.
/// Codes are (x - mean) W, unscaled; retrieval compares them by cosine. A modality wider than
/// <see cref="CcaOptions.MaxDenseDimension"/> (e.g. 5,000 TF-IDF terms) is first projected onto its leading principal
/// components (randomized SVD of the centred, sparse data): ridge CCA's directions lie in the span of the training
/// rows, so this is exact when all n - 1 components are kept and an approximation (the smallest-variance directions
/// dropped) otherwise.
/// </summary>
public sealed class Cca : ICommonSpaceModel
{
    private readonly Side _image;
    private readonly Side _text;

    private Cca(Side image, Side text, double[] correlations)
    {
        _image = image;
        _text = text;
        Correlations = correlations;
    }

    /// <inheritdoc/>
    public string Name => "cca";

    /// <inheritdoc/>
    public int Dimension => Correlations.Count;

    /// <inheritdoc/>
    public int ImageFeatureDimension => _image.Mean.Length;

    /// <inheritdoc/>
    public int TextFeatureDimension => _text.Mean.Length;

    /// <summary>The canonical correlations of the kept directions on the training data (with the ridge), descending.</summary>
    public IReadOnlyList<double> Correlations { get; }

    /// <summary>Fits CCA on <paramref name="rows"/> paired rows of image [rows x imageDim] and text [rows x textDim] features.</summary>
    public static Cca Fit(ReadOnlySpan<float> images, int imageDim, ReadOnlySpan<float> texts, int textDim, int rows, CcaOptions? options = null)
    {
        options ??= new CcaOptions();
        if (rows < 2) throw new ArgumentException($"CCA needs at least 2 training pairs; got {rows}.");
        if (images.Length != (long)rows * imageDim || texts.Length != (long)rows * textDim)
            throw new ArgumentException($"Expected {rows} x {imageDim} image and {rows} x {textDim} text values; got {images.Length} and {texts.Length}.");
        if (options.Regularization < 0) throw new ArgumentException("The CCA ridge cannot be negative.");
        var x = Reduce(images, rows, imageDim, options);
        var y = Reduce(texts, rows, textDim, options);
        int p = x.Width, q = y.Width;
        int dim = options.Dimension;
        if (dim < 1 || dim > Math.Min(p, q))
            throw new ArgumentException($"CCA dimension {dim} must be in 1..{Math.Min(p, q)} (the narrower modality after reduction has {Math.Min(p, q)} dimensions).");

        double scale = 1.0 / (rows - 1);
        var cxx = MatrixMath.MultiplyTransposedA(x.Centered, rows, p, x.Centered, p);
        var cyy = MatrixMath.MultiplyTransposedA(y.Centered, rows, q, y.Centered, q);
        var cxy = MatrixMath.MultiplyTransposedA(x.Centered, rows, p, y.Centered, q);
        for (int i = 0; i < cxx.Length; i++) cxx[i] *= scale;
        for (int i = 0; i < cyy.Length; i++) cyy[i] *= scale;
        for (int i = 0; i < cxy.Length; i++) cxy[i] *= scale;
        for (int i = 0; i < p; i++) cxx[i * p + i] += options.Regularization;
        for (int i = 0; i < q; i++) cyy[i * q + i] += options.Regularization;
        var kx = InverseSquareRoot(cxx, p, "image");
        var ky = InverseSquareRoot(cyy, q, "text");
        // M = Kx Cxy Ky (p x q). Its left singular vectors are the eigenvectors of M M^T; the right ones follow as
        // M^T u / sigma. Decomposing the smaller Gram matrix would be cheaper but the widths here are small.
        var m = MatrixMath.Multiply(MatrixMath.Multiply(kx, p, p, cxy, q), p, q, ky, q);
        var mmt = MatrixMath.Multiply(m, p, q, MatrixMath.Transpose(m, p, q), p);
        var (values, vectors) = SymmetricEigen.Decompose(mmt, p);
        var u = new double[p * dim];
        var correlations = new double[dim];
        for (int j = 0; j < dim; j++)
        {
            correlations[j] = Math.Sqrt(Math.Max(0, values[j]));
            for (int i = 0; i < p; i++) u[i * dim + j] = vectors[i * p + j];
        }
        var mtu = MatrixMath.MultiplyTransposedA(m, p, q, u, dim); // q x dim = M^T U
        for (int j = 0; j < dim; j++)
        {
            double inv = correlations[j] > 0 ? 1 / correlations[j] : 0;
            for (int i = 0; i < q; i++) mtu[i * dim + j] *= inv;
        }
        var wx = MatrixMath.Multiply(kx, p, p, u, dim);
        var wy = MatrixMath.Multiply(ky, q, q, mtu, dim);
        return new Cca(x.ToSide(wx, dim), y.ToSide(wy, dim), correlations);
    }

    /// <inheritdoc/>
    public float[] ProjectImages(ReadOnlySpan<float> features, int rows) => _image.Project(features, rows, "image");

    /// <inheritdoc/>
    public float[] ProjectTexts(ReadOnlySpan<float> features, int rows) => _text.Project(features, rows, "text");

    private static double[] InverseSquareRoot(double[] c, int n, string modality)
    {
        var (values, vectors) = SymmetricEigen.Decompose(c, n);
        if (values[n - 1] <= 0)
            throw new InvalidOperationException(
                $"The {modality} covariance is singular (smallest eigenvalue {values[n - 1]:G3}); use a positive CCA regularisation.");
        var scaled = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) scaled[i * n + j] = vectors[i * n + j] / Math.Sqrt(values[j]);
        return MatrixMath.Multiply(scaled, n, n, MatrixMath.Transpose(vectors, n, n), n);
    }

    private static Reduced Reduce(ReadOnlySpan<float> data, int rows, int dim, CcaOptions options)
    {
        var mean = new double[dim];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < dim; j++) mean[j] += data[i * dim + j];
        for (int j = 0; j < dim; j++) mean[j] /= rows;
        if (dim <= options.MaxDenseDimension)
        {
            var centered = new double[rows * dim];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < dim; j++) centered[i * dim + j] = data[i * dim + j] - mean[j];
            return new Reduced(mean, null, dim, centered);
        }
        int k = Math.Min(options.PrincipalComponents, Math.Min(rows - 1, dim));
        var svd = RandomizedSvd.Compute(new CenteredOperator(CsrMatrix.FromDense(data, rows, dim), mean), k, seed: options.Seed);
        // Principal coordinates of the training rows: U diag(S).
        var scores = new double[rows * k];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < k; j++) scores[i * k + j] = svd.U[i * k + j] * svd.Values[j];
        return new Reduced(mean, svd.V, k, scores);
    }

    /// <summary>One modality during fitting: its mean, optional PCA basis (dim x width), the centred (reduced) training rows.</summary>
    private sealed record Reduced(double[] Mean, double[]? Basis, int Width, double[] Centered)
    {
        public Side ToSide(double[] w, int dim)
        {
            // Fold the PCA basis into the projection: x -> (x - mean) Basis W.
            var full = Basis is null ? w : MatrixMath.Multiply(Basis, Mean.Length, Width, w, dim);
            return new Side(Mean, full, dim);
        }
    }

    /// <summary>One modality of the fitted model: codes are (x - Mean) W with W [features x dim].</summary>
    private sealed record Side(double[] Mean, double[] W, int Dim)
    {
        public float[] Project(ReadOnlySpan<float> features, int rows, string modality)
        {
            int d = Mean.Length;
            if (features.Length != (long)rows * d)
                throw new ArgumentException($"CCA was fitted on {d}-dimensional {modality} features; got {features.Length} values for {rows} rows.");
            var centered = new double[rows * d];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < d; j++) centered[i * d + j] = features[i * d + j] - Mean[j];
            var codes = MatrixMath.Multiply(centered, rows, d, W, Dim);
            return codes.Select(v => (float)v).ToArray();
        }
    }
}
