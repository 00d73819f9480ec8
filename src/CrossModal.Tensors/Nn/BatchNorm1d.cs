using CrossModal.Tensors.Autograd;

namespace CrossModal.Tensors.Nn;

/// <summary>
/// torch.nn.BatchNorm1d on [N, C] or [N, C, L]. Training mode normalises with the batch statistics (biased variance)
/// and updates running_mean / running_var (unbiased variance) with momentum 0.1; evaluation mode uses the running
/// statistics. State: "weight", "bias", "running_mean", "running_var", "num_batches_tracked".
/// </summary>
public sealed class BatchNorm1d : Module
{
    /// <summary>Creates the layer: weight 1, bias 0, running mean 0, running variance 1.</summary>
    public BatchNorm1d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f)
    {
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Weight = RegisterParameter("weight", Tensor.Full(1f, numFeatures));
        Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
        RunningVar = RegisterBuffer("running_var", Tensor.Full(1f, numFeatures));
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros());
    }

    /// <summary>Channels.</summary>
    public int NumFeatures { get; }

    /// <summary>Added to the variance.</summary>
    public float Eps { get; }

    /// <summary>Running-statistics momentum.</summary>
    public float Momentum { get; }

    /// <summary>gamma [C].</summary>
    public Tensor Weight { get; }

    /// <summary>beta [C].</summary>
    public Tensor Bias { get; }

    /// <summary>[C].</summary>
    public Tensor RunningMean { get; }

    /// <summary>[C].</summary>
    public Tensor RunningVar { get; }

    /// <summary>Rank-0 counter (stored as int64 in PyTorch files).</summary>
    public Tensor NumBatchesTracked { get; }

    /// <summary>Normalises x [N, C] or [N, C, L].</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank is not (2 or 3) || x.Dim(1) != NumFeatures)
            throw new ArgumentException($"BatchNorm1d({NumFeatures}): input {Tensor.FormatShape(x.ShapeSpan)} is not [N, {NumFeatures}] or [N, {NumFeatures}, L].");
        int n = x.Dim(0), c = NumFeatures, l = x.Rank == 3 ? x.Dim(2) : 1;
        int count = n * l;
        var mean = new float[c];
        var invStd = new float[c];
        var xd = x.Data;
        if (Training)
        {
            if (count <= 1) throw new ArgumentException($"BatchNorm1d: expected more than 1 value per channel when training, got input {Tensor.FormatShape(x.ShapeSpan)}.");
            var rm = RunningMean.Data;
            var rv = RunningVar.Data;
            for (int ch = 0; ch < c; ch++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) s += xd[(i * c + ch) * l + j];
                double mu = s / count;
                double ss = 0;
                for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) { double d = xd[(i * c + ch) * l + j] - mu; ss += d * d; }
                double varBiased = ss / count;
                mean[ch] = (float)mu;
                invStd[ch] = (float)(1.0 / Math.Sqrt(varBiased + Eps));
                rm[ch] = (1 - Momentum) * rm[ch] + Momentum * (float)mu;
                rv[ch] = (1 - Momentum) * rv[ch] + Momentum * (float)(ss / (count - 1));
            }
            NumBatchesTracked.Data[0] += 1;
        }
        else
        {
            var rm = RunningMean.Data;
            var rv = RunningVar.Data;
            for (int ch = 0; ch < c; ch++)
            {
                mean[ch] = rm[ch];
                invStd[ch] = 1f / MathF.Sqrt(rv[ch] + Eps);
            }
        }
        var y = Tensor.Empty(x.Shape);
        var yd = y.Data;
        var gamma = Weight.Data;
        var beta = Bias.Data;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int j = 0; j < l; j++)
                {
                    int p = (i * c + ch) * l + j;
                    yd[p] = (xd[p] - mean[ch]) * invStd[ch] * gamma[ch] + beta[ch];
                }
        if (Tape.Needs(new[] { x, Weight, Bias }))
        {
            bool batchStats = Training;
            Tape.Record(y, g => Backward(x, g, mean, invStd, batchStats, n, c, l));
        }
        return y;
    }

    private void Backward(Tensor x, Tensor g, float[] mean, float[] invStd, bool batchStats, int n, int c, int l)
    {
        var gd = g.Data;
        var xd = x.Data;
        int count = n * l;
        var sumG = new double[c];
        var sumGXhat = new double[c];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int j = 0; j < l; j++)
                {
                    int p = (i * c + ch) * l + j;
                    double xhat = (xd[p] - mean[ch]) * invStd[ch];
                    sumG[ch] += gd[p];
                    sumGXhat[ch] += gd[p] * xhat;
                }
        if (Weight.RequiresGrad)
        {
            var gw = Weight.GradBuffer(out bool acc);
            for (int ch = 0; ch < c; ch++) gw[ch] = (acc ? gw[ch] : 0f) + (float)sumGXhat[ch];
        }
        if (Bias.RequiresGrad)
        {
            var gb = Bias.GradBuffer(out bool acc);
            for (int ch = 0; ch < c; ch++) gb[ch] = (acc ? gb[ch] : 0f) + (float)sumG[ch];
        }
        if (!x.RequiresGrad) return;
        var gx = x.GradBuffer(out bool accX);
        var gamma = Weight.Data;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int j = 0; j < l; j++)
                {
                    int p = (i * c + ch) * l + j;
                    float v;
                    if (batchStats)
                    {
                        // dx = gamma * invStd / N * (N g - sum(g) - xhat * sum(g xhat))
                        double xhat = (xd[p] - mean[ch]) * invStd[ch];
                        v = (float)(gamma[ch] * invStd[ch] / count * (count * gd[p] - sumG[ch] - xhat * sumGXhat[ch]));
                    }
                    else v = gd[p] * gamma[ch] * invStd[ch];
                    if (accX) gx[p] += v; else gx[p] = v;
                }
    }
}
