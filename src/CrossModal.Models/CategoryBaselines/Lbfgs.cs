namespace CrossModal.Models.CategoryBaselines;

/// <summary>
/// Limited-memory BFGS (Nocedal and Wright, algorithm 7.4/7.5) with an Armijo backtracking line search, for the
/// smooth, strictly convex closed-form fits here (L2-regularised logistic regression): their optimum is unique, so
/// any solver that converges reaches the numpy reference's Newton solution. A pair whose curvature s^T y is not
/// positive is skipped, which keeps the inverse-Hessian estimate positive definite.
/// </summary>
internal static class Lbfgs
{
    /// <summary>
    /// Minimises f from <paramref name="x"/> (updated in place). <paramref name="evaluate"/> writes the gradient at
    /// its first argument into its second and returns f. Stops when the largest gradient component is below
    /// <paramref name="gradientTolerance"/>, when an iteration lowers f by less than <paramref name="relativeTolerance"/>
    /// of |f| (the rounding level: past it the line search only chases noise, at the cost of dozens of evaluations
    /// per iteration), or when no step decreases f. Returns the iterations used.
    /// </summary>
    public static int Minimize(Func<double[], double[], double> evaluate, double[] x, double gradientTolerance = 1e-8,
        double relativeTolerance = 1e-14, int maxIterations = 5000, int history = 10, CancellationToken cancellationToken = default)
    {
        int n = x.Length;
        var g = new double[n];
        double f = evaluate(x, g);
        var s = new List<double[]>();
        var y = new List<double[]>();
        var rho = new List<double>();
        var d = new double[n];
        var xNew = new double[n];
        var gNew = new double[n];
        var alpha = new double[history];
        for (int it = 0; it < maxIterations; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (MaxAbs(g) < gradientTolerance) return it;
            // Two-loop recursion: d = -H g.
            for (int i = 0; i < n; i++) d[i] = -g[i];
            for (int j = s.Count - 1; j >= 0; j--)
            {
                alpha[j] = rho[j] * Dot(s[j], d);
                Axpy(-alpha[j], y[j], d);
            }
            double gamma = s.Count > 0 ? Dot(s[^1], y[^1]) / Dot(y[^1], y[^1]) : 1 / Math.Max(1, Math.Sqrt(Dot(g, g)));
            for (int i = 0; i < n; i++) d[i] *= gamma;
            for (int j = 0; j < s.Count; j++)
            {
                double beta = rho[j] * Dot(y[j], d);
                Axpy(alpha[j] - beta, s[j], d);
            }
            double slope = Dot(g, d);
            if (slope >= 0)
            {
                // Not a descent direction (numerical trouble): restart from steepest descent.
                s.Clear(); y.Clear(); rho.Clear();
                for (int i = 0; i < n; i++) d[i] = -g[i] / Math.Max(1, Math.Sqrt(Dot(g, g)));
                slope = Dot(g, d);
            }
            double t = 1, fNew;
            while (true)
            {
                for (int i = 0; i < n; i++) xNew[i] = x[i] + t * d[i];
                fNew = evaluate(xNew, gNew);
                if (fNew <= f + 1e-4 * t * slope) break;
                t *= 0.5;
                if (t < 1e-12) return it; // no decrease possible at double precision: converged as far as it goes
            }
            bool stalled = f - fNew <= relativeTolerance * Math.Max(1, Math.Abs(f));
            var sk = new double[n];
            var yk = new double[n];
            for (int i = 0; i < n; i++)
            {
                sk[i] = xNew[i] - x[i];
                yk[i] = gNew[i] - g[i];
            }
            double sy = Dot(sk, yk);
            if (sy > 1e-300)
            {
                if (s.Count == history)
                {
                    s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0);
                }
                s.Add(sk); y.Add(yk); rho.Add(1 / sy);
            }
            Array.Copy(xNew, x, n);
            Array.Copy(gNew, g, n);
            f = fNew;
            if (stalled) return it + 1;
        }
        return maxIterations;
    }

    private static double Dot(double[] a, double[] b) => System.Numerics.Tensors.TensorPrimitives.Dot<double>(a, b);

    private static void Axpy(double a, double[] x, double[] y) => System.Numerics.Tensors.TensorPrimitives.MultiplyAdd<double>(x, a, y, y);

    private static double MaxAbs(double[] v) => v.Length == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.MaxMagnitude<double>(v) is var m ? Math.Abs(m) : 0;
}
