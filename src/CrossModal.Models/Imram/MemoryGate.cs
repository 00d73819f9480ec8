using System.Numerics.Tensors;
using CrossModal.Models.Attention;

namespace CrossModal.Models.Imram;

/// <summary>
/// IMRAM's memory distillation unit (gated_memory_t2i / gated_memory_i2t of the original) for n query rows, given
/// the pre-activations of its two layers: with z = [q; c] (query first, then the attended vector),
/// pre = [W_l z + b_l | W_g z + b_g] (each row d + d wide: the linear layer's outputs, then the gate's),
/// h = tanh(pre_l), g = sigmoid(pre_g), q' = q ⊙ g + h ⊙ (1 − g); optionally q' / (‖q'‖ + 1e-8) (IMRAM norm on, the
/// original's default; the published scripts pass --no_IMRAM_norm). The caller forms pre (IMRAM splits W z into a
/// query half and an attended half, see <see cref="IterativeAttention"/>).
/// </summary>
public static class MemoryGate
{
    /// <summary>
    /// q' rows into <paramref name="updated"/>, keeping h and g for the backward; with <paramref name="normalize"/>
    /// the rows are L2-normalised and <paramref name="norms"/> (n) receives ‖q'‖ before normalisation.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> query, ReadOnlySpan<float> pre, int n, int d, Span<float> h, Span<float> g,
        Span<float> updated, bool normalize, Span<float> norms)
    {
        for (int i = 0; i < n; i++)
        {
            var q = query.Slice(i * d, d);
            var hi = h.Slice(i * d, d);
            var gi = g.Slice(i * d, d);
            var u = updated.Slice(i * d, d);
            TensorPrimitives.Tanh(pre.Slice(i * 2 * d, d), hi);
            TensorPrimitives.Sigmoid(pre.Slice(i * 2 * d + d, d), gi);
            // q' = h + g (q - h): the same value as q g + h (1 - g) with one product less.
            TensorPrimitives.Subtract(q, hi, u);
            TensorPrimitives.FusedMultiplyAdd(u, gi, hi, u);
            if (normalize)
            {
                float norm = TensorPrimitives.Norm(u);
                norms[i] = norm;
                TensorPrimitives.Divide(u, norm + AttentionStages.Eps, u);
            }
        }
    }

    /// <summary>
    /// Back-propagates d loss / d output (<paramref name="dOutput"/>, overwritten as scratch): d loss / d pre into
    /// <paramref name="dPre"/> (n x 2d, overwritten) and d loss / d q ADDED to <paramref name="dQuery"/>. With
    /// normalisation, <paramref name="output"/> is the normalised q' and <paramref name="norms"/> the forward's norms.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> query, ReadOnlySpan<float> h, ReadOnlySpan<float> g, ReadOnlySpan<float> output,
        bool normalize, ReadOnlySpan<float> norms, int n, int d, Span<float> dOutput, Span<float> dPre, Span<float> dQuery)
    {
        for (int i = 0; i < n; i++)
        {
            var du = dOutput.Slice(i * d, d);
            if (normalize)
            {
                // y = u / (‖u‖ + ε): du = dy / (‖u‖ + ε) − u (u·dy) / (‖u‖ (‖u‖ + ε)²), with u = y (‖u‖ + ε).
                float norm = norms[i], den = norm + AttentionStages.Eps;
                var y = output.Slice(i * d, d);
                float k = norm > 0f ? TensorPrimitives.Dot(y, du) * den / (den * den * norm) : 0f;
                TensorPrimitives.Multiply(du, 1f / den, du);
                TensorPrimitives.MultiplyAdd(y, -k * den, du, du);
            }
            var q = query.Slice(i * d, d);
            var hi = h.Slice(i * d, d);
            var gi = g.Slice(i * d, d);
            var dpl = dPre.Slice(i * 2 * d, d);
            var dpg = dPre.Slice(i * 2 * d + d, d);
            // dq += du g; dg = du (q - h) -> dpre_g = dg g (1 - g); dh = du (1 - g) -> dpre_l = dh (1 - h²).
            TensorPrimitives.FusedMultiplyAdd(du, gi, dQuery.Slice(i * d, d), dQuery.Slice(i * d, d));
            TensorPrimitives.Subtract(q, hi, dpg);
            TensorPrimitives.Multiply(dpg, du, dpg);
            TensorPrimitives.Multiply(dpg, gi, dpg);
            TensorPrimitives.Subtract(1f, gi, dpl);   // 1 - g
            TensorPrimitives.Multiply(dpg, dpl, dpg); // dg g (1 - g)
            TensorPrimitives.Multiply(dpl, du, dpl);  // dh
            for (int j = 0; j < d; j++) dpl[j] *= 1f - hi[j] * hi[j];
        }
    }
}
