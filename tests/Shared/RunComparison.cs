using System.Text.RegularExpressions;
using CrossModal.Tensors.IO;

namespace CrossModal.Tests;

/// <summary>
/// Compares two training output folders as the resume guarantee states it: the final checkpoint's tensors (model and
/// optimizers) bit for bit, its training state, the best model's tensors, and metrics.jsonl line for line with the
/// wall-clock "seconds" removed.
/// </summary>
internal static class RunComparison
{
    public static void AssertSameRun(string expected, string actual)
    {
        AssertSameTensors(Path.Combine(expected, "checkpoint.safetensors"), Path.Combine(actual, "checkpoint.safetensors"));
        var (a, b) = (Safetensors.Read(Path.Combine(expected, "checkpoint.safetensors")), Safetensors.Read(Path.Combine(actual, "checkpoint.safetensors")));
        Assert.Equal(a.Metadata["train_state"], b.Metadata["train_state"]);
        if (File.Exists(Path.Combine(expected, "model_best.safetensors")))
            AssertSameTensors(Path.Combine(expected, "model_best.safetensors"), Path.Combine(actual, "model_best.safetensors"));
        Assert.Equal(Metrics(expected), Metrics(actual));
    }

    /// <summary>metrics.jsonl without the seconds (the only value that may differ between runs).</summary>
    public static string[] Metrics(string folder) =>
        File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")).Select(l => Regex.Replace(l, "\"seconds\":[0-9.eE+-]+,?", "")).ToArray();

    private static void AssertSameTensors(string expectedPath, string actualPath)
    {
        var (a, b) = (Safetensors.Read(expectedPath), Safetensors.Read(actualPath));
        Assert.Equal(a.Order, b.Order);
        foreach (var name in a.Order)
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.Tensors[name].ToArray().AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.Tensors[name].ToArray().AsSpan())), $"{actualPath}: tensor '{name}' differs from {expectedPath}.");
    }
}
