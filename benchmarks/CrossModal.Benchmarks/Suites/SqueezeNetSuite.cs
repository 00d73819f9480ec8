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

        string dir = Path.Combine(BenchContext.DataRoot, "squeezenet");
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
        bool python = PythonReference.Available();
        try
        {
            if (python)
            {
                Safetensors.Write(Path.Combine(temp, "weights.safetensors"),
                    model.Graph.Initializers.Values.Select(t => (t.Name, Tensor.FromArray(t.ToFloat32(), t.Shape))));
                Npy.Write(Path.Combine(temp, "input.npy"), input);
                Npy.Write(Path.Combine(temp, "ours.npy"), ours);
            }
            else Console.Error.WriteLine("squeezenet: /usr/bin/python3 with torch not available; no reference.");

            foreach (int threads in ctx.ThreadCounts)
            {
                Parallelism.Threads = threads;
                double batchSeconds = ctx.BestSeconds(() => runtime.Run(input, "softmaxout_1"), 5, 1.0);
                double singleSeconds = ctx.BestSeconds(() => runtime.Run(single, "softmaxout_1"), 15, 1.0);
                double? refBatch = null, refSingle = null, diff = null;
                if (python)
                {
                    var r = PythonReference.Run("squeezenet_reference.py",
                        new[] { Path.Combine(temp, "weights.safetensors"), Path.Combine(temp, "input.npy"), Path.Combine(temp, "ours.npy"),
                            "--threads", threads.ToString(), "--reps", ctx.Quick ? "2" : "5" }, threads);
                    refBatch = r.GetProperty("batch_images_per_s").GetDouble();
                    refSingle = r.GetProperty("single_images_per_s").GetDouble();
                    diff = r.GetProperty("max_abs_diff_vs_ours").GetDouble();
                }
                var extra = new Dictionary<string, object> { ["max_abs_diff_vs_pytorch"] = diff ?? double.NaN };
                yield return new BenchResult("squeezenet", $"batch{batch}_224", threads, "images/s", batch / batchSeconds, python ? "pytorch" : null, refBatch, true, extra);
                yield return new BenchResult("squeezenet", "single_224", threads, "images/s", 1 / singleSeconds, python ? "pytorch" : null, refSingle, true, extra);
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
