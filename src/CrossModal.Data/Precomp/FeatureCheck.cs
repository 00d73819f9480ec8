using System.Numerics;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Threading;

namespace CrossModal.Data.Precomp;

/// <summary>
/// Finds NaN or infinite values in a feature file. One vectorised pass: x - x is 0 for finite x and NaN for NaN
/// or +-Inf, so a running sum of (x - x) stays 0 exactly when the row is finite. Runs across the cores; reading a
/// memory-mapped file this way touches every page once (about 10 ms for the 56 MB f8k-1k train split in the page
/// cache).
/// </summary>
internal static class FeatureCheck
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming the first row (and element) that is not finite.</summary>
    public static void ThrowIfNotFinite(NpyMapped features, CancellationToken cancellationToken, string rowName = "image row")
    {
        int rows = features.Rows;
        int firstBad = int.MaxValue;
        var gate = new object();
        int rowLength = Math.Max(1, features.RowLength);
        Parallelism.For(rows, Math.Max(1, (1 << 20) / rowLength), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                if ((r & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
                if (FirstNonFinite(features.Row(r)) >= 0)
                {
                    lock (gate) firstBad = Math.Min(firstBad, r);
                    return;
                }
            }
        });
        if (firstBad == int.MaxValue) return;
        var row = features.Row(firstBad);
        int index = FirstNonFinite(row);
        float value = row[index];
        string where = features.Shape.Length == 3
            ? $"region {index / features.Shape[2]}, dimension {index % features.Shape[2]}"
            : $"dimension {index}";
        throw new InvalidDataException(
            $"{features.Path}: {rowName} {firstBad} contains {(float.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf")} at {where}; features must be finite.");
    }

    /// <summary>Index of the first NaN or infinite value, or -1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values[i..]);
                acc += v - v;
            }
            if (Vector.EqualsAll(acc, Vector<float>.Zero))
            {
                for (; i < values.Length; i++)
                    if (!float.IsFinite(values[i])) return i;
                return -1;
            }
            i = 0;
        }
        for (; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
