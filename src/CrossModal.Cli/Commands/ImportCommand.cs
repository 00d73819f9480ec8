using System.CommandLine;
using CrossModal.Checkpoints;
using CrossModal.Text;
using CrossModal.Training;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal import --checkpoint model_best.pth.tar --out model.safetensors [--vocab vocab.json]`: converts an
/// original PyTorch checkpoint (VSE++/SCAN, zip or legacy serialisation; nothing in it is executed) once into
/// CrossModal's safetensors checkpoint: the original tensor names and shapes under "img_enc."/"txt_enc.", the
/// model configuration, and (with --vocab) the vocabulary, so `crossmodal eval` needs nothing else.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "The PyTorch checkpoint (model_best.pth.tar, checkpoint.pth).", Required = true };
        var output = new Option<string>("--out") { Description = "The safetensors file to write.", Required = true };
        var vocab = new Option<string?>("--vocab") { Description = "The vocabulary JSON the model was trained with, stored in the checkpoint." };
        var method = new Option<string?>("--method") { Description = "vsepp or scan; default: told from the checkpoint's options (cross_attn -> scan, measure -> vsepp)." };
        var cmd = new Command("import", "Convert an original PyTorch checkpoint (VSE++, SCAN) into a CrossModal safetensors checkpoint.");
        foreach (var o in new Option[] { checkpoint, output, vocab, method }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string source = parse.GetValue(checkpoint)!;
            string target = parse.GetValue(output)!;
            var torch = TorchCheckpoint.Load(source);
            var ckpt = ModelCheckpoint.FromTorch(torch, parse.GetValue(method));
            var model = ckpt.CreateModel();
            string? vocabJson = null;
            if (parse.GetValue(vocab) is { } vocabPath)
            {
                var words = Vocabulary.Load(vocabPath);
                if (words.Count != model.Config.VocabSize)
                    throw new CliException($"{vocabPath}: {words.Count} words, but the checkpoint's word embedding has {model.Config.VocabSize} rows.");
                vocabJson = words.ToJson();
            }
            Checkpoint.Save(target, model, vocabJson);
            Console.WriteLine($"imported {source} ({torch.Format.ToString().ToLowerInvariant()}, {ckpt.Method}, " +
                              $"{ckpt.Image.Count} image + {ckpt.Text.Count} text tensors, epoch {ckpt.Epoch?.ToString() ?? "?"}) -> {target}");
            return 0;
        });
        return cmd;
    }
}
