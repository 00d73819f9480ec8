using System.Numerics.Tensors;

namespace CrossModal.Tensors.Optim;

/// <summary>Gradient clipping with torch.nn.utils.clip_grad_norm_ semantics.</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (total + 1e-6)), where total is the L2 norm of the concatenation of
    /// every gradient; returns total. Parameters without a gradient are ignored.
    /// </summary>
    public static float ClipByTotalNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        var grads = parameters.Where(p => p.Grad is not null).Select(p => p.Grad!).ToList();
        if (grads.Count == 0) return 0f;
        // torch: total = norm(stack([norm(g) for g])); each per-tensor norm in float32.
        double sumSquares = 0;
        foreach (var g in grads)
        {
            float n = TensorPrimitives.Norm(g.Data);
            sumSquares += (double)n * n;
        }
        float total = (float)Math.Sqrt(sumSquares);
        float coef = maxNorm / (total + 1e-6f);
        if (coef < 1f)
            foreach (var g in grads) TensorPrimitives.Multiply(g.Data, coef, g.Data);
        return total;
    }
}
