using CrossModal.Tensors;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Threading;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Onnx;

namespace CrossModal.Benchmarks.Suites;

/// <summary>
/// SqueezeNet 1.1 (../shared/data/squeezenet/SqueezeNet_fp16.onnx, weights widened to float32) at 224 x 224:
/// images/s for a batch of 16 and for single images, next to PyTorch running the same weights on the same input
/// in the same run (benchmarks/reference/squeezenet_reference.py; the weights reach it through a safetensors file
/// written by our ONNX reader, and it reports max |diff| between its softmax and ours). Target: ratio >= 1 at 2 threads.
/// Arguments: --batch N (default 16).
/// </summary>
internal static class SqueezeNetSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        int batch = 16;
        for (int i = 0; i + 1 < ctx.Arguments.Count; i++)
            if (ctx.Arguments[i] == "--batch") batch = int.Parse(ctx.Arguments[i + 1]);

        string dir = Prerequisites.Data(Path.Combine(BenchContext.DataRoot, "squeezenet"));
        var model = OnnxModel.Load(Path.Combine(dir, "SqueezeNet_fp16.onnx"));
        var runtime = CnnRuntime.Create(model);
        var fish = File.ReadAllText(Path.Combine(dir, "fish.csv")).Split(',').Select(float.Parse).ToArray();
        var data = new float[batch * fish.Length];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < fish.Length; i++) data[b * fish.Length + i] = fish[(i + 997 * b) % fish.Length]; // distinct images
        var input = Tensor.FromArray(data, batch, 3, 224, 224);
        var single = Tensor.FromArray(data[..fish.Length], 1, 3, 224, 224);
        var ours = runtime.Run(input, "softmaxout_1");

        string temp = Directory.CreateTempSubdirectory("cm-squeezenet-").FullName;
        // Without PyTorch this suite still measures ours (reference fields null), after one line saying what to install.
        bool python = true;
        try { Prerequisites.Python("torch", "numpy"); }
        catch (MissingPrerequisiteException e)
        {
            python = false;
            Console.Error.WriteLine($"squeezenet: no reference: {e.Message}");
        }
        try
        {
            if (python)
            {
                Safetensors.Write(Path.Combine(temp, "weights.safetensors"),
                    model.Graph.Initializers.Values.Select(t => (t.Name, Tensor.FromArray(t.ToFloat32(), t.Shape))));
                Npy.Write(Path.Combine(temp, "input.npy"), input);
                Npy.Write(Path.Combine(temp, "ours.npy"), ours);
            }

            foreach (int threads in ctx.ThreadCounts)
            {
                Parallelism.Threads = threads;
                double batchSeconds = ctx.BestSeconds(() => runtime.Run(input, "softmaxout_1"), 5, 1.0);
                double singleSeconds = ctx.BestSeconds(() => runtime.Run(single, "softmaxout_1"), 15, 1.0);
                // CPU time per image: a load-independent measure of the work done (the machine is shared).
                double batchCpu = CpuMilliseconds(() => runtime.Run(input, "softmaxout_1"), ctx.Quick ? 1 : 3) / batch;
                double singleCpu = CpuMilliseconds(() => runtime.Run(single, "softmaxout_1"), ctx.Quick ? 4 : 16);
                double? refBatch = null, refSingle = null, diff = null, refBatchCpu = null, refSingleCpu = null;
                if (python)
                {
                    var r = PythonReference.Run("squeezenet_reference.py",
                        new[] { Path.Combine(temp, "weights.safetensors"), Path.Combine(temp, "input.npy"), Path.Combine(temp, "ours.npy"),
                            "--threads", threads.ToString(), "--reps", ctx.Quick ? "2" : "5" }, threads);
                    refBatch = r.GetProperty("batch_images_per_s").GetDouble();
                    refSingle = r.GetProperty("single_images_per_s").GetDouble();
                    diff = r.GetProperty("max_abs_diff_vs_ours").GetDouble();
                    refBatchCpu = r.GetProperty("batch_cpu_ms_per_image").GetDouble();
                    refSingleCpu = r.GetProperty("single_cpu_ms_per_image").GetDouble();
                }
                yield return new BenchResult("squeezenet", $"batch{batch}_224", threads, "images/s", batch / batchSeconds, python ? "pytorch" : null, refBatch, true,
                    Extra(diff, batchCpu, refBatchCpu));
                yield return new BenchResult("squeezenet", "single_224", threads, "images/s", 1 / singleSeconds, python ? "pytorch" : null, refSingle, true,
                    Extra(diff, singleCpu, refSingleCpu));
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    private static Dictionary<string, object> Extra(double? diff, double cpu, double? refCpu) => new()
    {
        ["max_abs_diff_vs_pytorch"] = Math.Round(diff ?? double.NaN, 9),
        ["cpu_ms_per_image"] = Math.Round(cpu, 3),
        ["reference_cpu_ms_per_image"] = Math.Round(refCpu ?? double.NaN, 3),
    };

    /// <summary>Process CPU time of <paramref name="reps"/> calls, in milliseconds per call.</summary>
    private static double CpuMilliseconds(Action action, int reps)
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        var start = process.TotalProcessorTime;
        for (int i = 0; i < reps; i++) action();
        process.Refresh();
        return (process.TotalProcessorTime - start).TotalMilliseconds / reps;
    }
}
