namespace CrossModal.Tests;

/// <summary>
/// How far data-parallel training may drift from one process, derived from float32 summation order (used by the
/// in-process data-parallel tests and by the mpirun test of the CLI).
/// <para>
/// Why they differ at all. Both compute the same real-number function of the same global batch: the same data
/// order, the same sorted rows, the same score matrix (gathered in the one-process order), the same hardest
/// negatives. What changes is the order of float32 additions: a gradient element is a sum of n products (one per
/// batch row and caption position or region: n = B x max(longest caption, regions)); one process adds them in one
/// pass, N ranks add their rows' products and then add the N partial sums (the gradient all-reduce; the captions'
/// reduce-scatter likewise). The forward pass of the first step is not affected (each score depends only on its own
/// image and caption).
/// </para>
/// <para>
/// Gradients. Two orders of the same n-term sum differ by at most 2 γ(n-1) Σ|c| ≈ 2 n u Σ|c|, u = 2^-24 (Higham,
/// Accuracy and Stability of Numerical Algorithms, §4.2, first order). Taking Σ|c| ≈ |Σ c| norm-wise gives the
/// relative bound ρ = 2 n u. (That worst case assumes all n rounding errors have one sign; they behave like a random
/// walk, √n u, which leaves a factor √n ≈ 60 of room for cancellation among the terms.)
/// </para>
/// <para>
/// Weights. Adam moves each weight by lr m̂/(√v̂ + ε). Scaling a gradient element's history by (1 + ρ) changes m̂ by
/// at most ρ Σ w_k|g_k| and √v̂ by at most ρ √v̂, so the update by at most 2 ρ lr A, where
/// A = max (Σ w_k |g_k|)/√v̂ ≤ √(t Σ w_k²) (Cauchy-Schwarz; w_k the bias-corrected momentum weights, v̂'s weights
/// ≈ 1/t for β2 = 0.999): A = 1 at t = 1 and 1.16 at t = 20; the tests run at most 20 steps, so A ≤ 1.2. Elements whose gradient is
/// below the rounding noise cannot flip their update beyond lr |g|/ε (ε = 1e-8). So after S steps each weight
/// differs by at most 2 A ρ lr S: measured against the distance Adam moves them, lr S per element,
/// D = ‖w_N − w_1‖₂ / (lr S √P) ≤ 2 A ρ = 4.8 n u.
/// </para>
/// <para>
/// Losses. The loss of the first step is the same function of the same weights (no bound needed beyond rounding of
/// its own sum, which is identical); later losses see weights perturbed by at most the relative amount above, and the
/// hinge loss is a sum of 2B hinges of cosine scores, which a relative perturbation of the embeddings moves by the
/// same relative amount: |L_N − L_1| ≤ 4.8 n u |L_1|.
/// </para>
/// <para>
/// With n = 128 x 40 this is 1.5e-3, against differences of a few 1e-7 measured here (the random-walk estimate), and
/// against O(1) relative differences for a semantic error (hardest negatives of one rank's rows only, a missing
/// reduce-scatter of the captions' gradient, rows gathered out of order): the tests include such a negative control.
/// </para>
/// </summary>
internal static class SummationOrder
{
    /// <summary>float32 unit roundoff.</summary>
    public const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>Adam's amplification bound A over the first 20 steps (see the class remarks).</summary>
    public const double AdamFactor = 1.2;

    /// <summary>ρ = 2 n u: the relative difference of two summation orders of an n-term gradient element.</summary>
    public static double Gradient(int terms) => 2.0 * terms * UnitRoundoff;

    /// <summary>4.8 n u: the relative drift of weights (against Adam's distance) and of losses.</summary>
    public static double Training(int terms) => 2.0 * AdamFactor * Gradient(terms);

    /// <summary>Products summed into one gradient element: batch rows x max(longest caption, regions).</summary>
    public static int Terms(int batchSize, int longestCaption, int regions) => batchSize * Math.Max(longestCaption, Math.Max(1, regions));

    /// <summary>‖a − b‖₂ / ‖b‖₂ in double.</summary>
    public static double RelativeDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            num += d * d;
            den += (double)b[i] * b[i];
        }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }

    /// <summary>‖a − b‖₂ in double.</summary>
    public static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double num = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            num += d * d;
        }
        return Math.Sqrt(num);
    }
}
