using System.CommandLine;
using CrossModal.Checkpoints;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal import --checkpoint model_best.pth.tar --out model.safetensors`: converts an original PyTorch
/// checkpoint (VSE++/SCAN, zip or legacy serialisation) once into CrossModal's safetensors checkpoint, which keeps
/// the original names, shapes and options and loads in Python's safetensors. Nothing in the file is executed.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "The PyTorch checkpoint (model_best.pth.tar, checkpoint.pth).", Required = true };
        var output = new Option<string>("--out") { Description = "The safetensors file to write.", Required = true };
        var method = new Option<string?>("--method") { Description = "vsepp or scan; default: told from the checkpoint's options (cross_attn -> scan, measure -> vsepp)." };
        var cmd = new Command("import", "Convert an original PyTorch checkpoint (VSE++, SCAN) into a CrossModal safetensors checkpoint.");
        cmd.Options.Add(checkpoint);
        cmd.Options.Add(output);
        cmd.Options.Add(method);
        cmd.SetAction(parse =>
        {
            string source = parse.GetValue(checkpoint)!;
            string target = parse.GetValue(output)!;
            var torch = TorchCheckpoint.Load(source);
            var ckpt = ModelCheckpoint.FromTorch(torch, parse.GetValue(method));
            ckpt.Save(target);
            Console.WriteLine($"imported {source} ({torch.Format.ToString().ToLowerInvariant()}, {ckpt.Method}, " +
                              $"{ckpt.Image.Count} image + {ckpt.Text.Count} text tensors, epoch {ckpt.Epoch?.ToString() ?? "?"}) -> {target}");
            return 0;
        });
        return cmd;
    }
}
