using CrossModal.Tensors.Linalg;

namespace CrossModal.Models.CategoryBaselines;

/// <summary>
/// Multinomial (softmax) logistic regression on z-scored features: each feature is standardised with the training
/// mean and standard deviation (population, ddof 0; a constant feature keeps deviation 1), a bias is added, and
/// mean cross-entropy + weightDecay / 2 * |W|^2 (the bias not penalised) is minimised to convergence by L-BFGS.
/// The objective is strictly convex, so the fit is the unique optimum (the numpy reference reaches it by Newton).
/// Classes are the distinct training labels; <see cref="Classes"/> maps a posterior column to its label.
/// The data matrix is kept sparse and the standardisation implicit, so 5,000-term TF-IDF features fit in seconds.
/// </summary>
public sealed class LogisticRegression
{
    private readonly double[] _mean;
    private readonly double[] _scale; // 1 / deviation
    private readonly double[] _weights; // (dim + 1) x classes, bias row last, on standardised features

    private LogisticRegression(double[] mean, double[] scale, double[] weights, int[] classes, int iterations)
    {
        _mean = mean;
        _scale = scale;
        _weights = weights;
        Classes = classes;
        Iterations = iterations;
    }

    /// <summary>The label of each posterior column (ascending).</summary>
    public IReadOnlyList<int> Classes { get; }

    /// <summary>Feature width.</summary>
    public int Dimension => _mean.Length;

    /// <summary>L-BFGS iterations the fit took.</summary>
    public int Iterations { get; }

    /// <summary>Fits on <paramref name="rows"/> rows [rows x dim] with one label each.</summary>
    public static LogisticRegression Fit(ReadOnlySpan<float> features, int rows, int dim, ReadOnlySpan<int> labels, double weightDecay = 1e-3,
        double gradientTolerance = 1e-8, CancellationToken cancellationToken = default)
    {
        if (rows < 1 || features.Length != (long)rows * dim || labels.Length != rows)
            throw new ArgumentException($"Expected {rows} x {dim} features and {rows} labels; got {features.Length} values and {labels.Length} labels.");
        if (weightDecay < 0) throw new ArgumentException("Weight decay cannot be negative.");
        var classes = labels.ToArray().Distinct().Order().ToArray();
        if (classes.Length < 2) throw new ArgumentException($"Logistic regression needs at least two classes in the training labels; found {classes.Length}.");
        var column = classes.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i);
        int k = classes.Length;
        var y = new int[rows];
        for (int i = 0; i < rows; i++) y[i] = column[labels[i]];

        var mean = new double[dim];
        var sq = new double[dim];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < dim; j++)
            {
                double v = features[i * dim + j];
                mean[j] += v;
                sq[j] += v * v;
            }
        var scale = new double[dim];
        for (int j = 0; j < dim; j++)
        {
            mean[j] /= rows;
            double var = Math.Max(0, sq[j] / rows - mean[j] * mean[j]);
            scale[j] = var > 1e-24 ? 1 / Math.Sqrt(var) : 1;
        }
        var x = CsrMatrix.FromDense(features, rows, dim);
        var w = new double[(dim + 1) * k];
        var effective = new double[dim * k];
        var logits = new double[rows * k];
        var xtr = new double[dim * k];
        double Evaluate(double[] wv, double[] grad)
        {
            // Logits of standardised features: ((x - mean) * scale) W + b = x (scale W) - (mean * scale) W + b.
            Effective(wv, scale, dim, k, effective);
            x.Multiply(effective, k, logits);
            var offset = new double[k];
            for (int j = 0; j < dim; j++)
                for (int c = 0; c < k; c++) offset[c] += mean[j] * effective[j * k + c];
            double loss = 0;
            var rsum = new double[k];
            for (int i = 0; i < rows; i++)
            {
                var z = logits.AsSpan(i * k, k);
                double max = double.NegativeInfinity;
                for (int c = 0; c < k; c++)
                {
                    z[c] += wv[dim * k + c] - offset[c];
                    max = Math.Max(max, z[c]);
                }
                double sum = 0;
                for (int c = 0; c < k; c++) sum += Math.Exp(z[c] - max);
                double lse = max + Math.Log(sum);
                loss += lse - z[y[i]];
                // Residual P - Y, kept in place of the logits.
                for (int c = 0; c < k; c++) z[c] = Math.Exp(z[c] - lse) - (c == y[i] ? 1 : 0);
                for (int c = 0; c < k; c++) rsum[c] += z[c];
            }
            // dL/dW = scale * (X^T R - mean (1^T R)) / n + decay W; dL/db = 1^T R / n.
            x.MultiplyTransposed(logits, k, xtr);
            double penalty = 0;
            for (int j = 0; j < dim; j++)
                for (int c = 0; c < k; c++)
                {
                    int idx = j * k + c;
                    grad[idx] = scale[j] * (xtr[idx] - mean[j] * rsum[c]) / rows + weightDecay * wv[idx];
                    penalty += wv[idx] * wv[idx];
                }
            for (int c = 0; c < k; c++) grad[dim * k + c] = rsum[c] / rows;
            return loss / rows + 0.5 * weightDecay * penalty;
        }
        int iterations = Lbfgs.Minimize(Evaluate, w, gradientTolerance, cancellationToken: cancellationToken);
        return new LogisticRegression(mean, scale, w, classes, iterations);
    }

    /// <summary>Class posteriors [rows x Classes.Count] of feature rows [rows x dim].</summary>
    public float[] Posteriors(ReadOnlySpan<float> features, int rows)
    {
        int dim = Dimension, k = Classes.Count;
        if (features.Length != (long)rows * dim)
            throw new ArgumentException($"The classifier was fitted on {dim}-dimensional features; got {features.Length} values for {rows} rows.");
        var result = new float[rows * k];
        var z = new double[k];
        for (int i = 0; i < rows; i++)
        {
            for (int c = 0; c < k; c++) z[c] = _weights[dim * k + c];
            for (int j = 0; j < dim; j++)
            {
                double v = (features[i * dim + j] - _mean[j]) * _scale[j];
                if (v == 0) continue;
                for (int c = 0; c < k; c++) z[c] += v * _weights[j * k + c];
            }
            double max = z.Max(), sum = 0;
            for (int c = 0; c < k; c++) sum += Math.Exp(z[c] - max);
            for (int c = 0; c < k; c++) result[i * k + c] = (float)(Math.Exp(z[c] - max) / sum);
        }
        return result;
    }

    private static void Effective(double[] w, double[] scale, int dim, int k, double[] effective)
    {
        for (int j = 0; j < dim; j++)
            for (int c = 0; c < k; c++) effective[j * k + c] = scale[j] * w[j * k + c];
    }
}
