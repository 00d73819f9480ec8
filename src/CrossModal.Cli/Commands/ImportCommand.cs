using System.CommandLine;
using CrossModal.Checkpoints;
using CrossModal.Text;
using CrossModal.Models;
using CrossModal.Models.Files;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal import --checkpoint model_best.pth.tar --out model.safetensors [--vocab vocab.json]`: converts an
/// original PyTorch checkpoint (any registered family, zip or legacy serialisation; nothing in it is executed) once into
/// CrossModal's safetensors checkpoint: the original tensor names and shapes under "img_enc."/"txt_enc.", the
/// model configuration, and (with --vocab) the vocabulary, so `crossmodal eval` needs nothing else.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "The PyTorch checkpoint (model_best.pth.tar, checkpoint.pth).", Required = true };
        var output = new Option<string>("--out") { Description = "The safetensors file to write.", Required = true };
        var vocab = new Option<string?>("--vocab") { Description = "The vocabulary the model was trained with (SCAN JSON or the pickled vocab.py object, .pkl), stored in the checkpoint." };
        var method = new Option<string?>("--model") { Description = $"the code that wrote it ({ModelFamilies.NameList}); default: recognised from the checkpoint's options." };
        var cmd = new Command("import", "Convert an original PyTorch checkpoint (VSE++, SCAN, ...) into a CrossModal safetensors checkpoint.");
        foreach (var o in new Option[] { checkpoint, output, vocab, method }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            string source = parse.GetValue(checkpoint)!;
            string target = parse.GetValue(output)!;
            var torch = TorchCheckpoint.Load(source);
            var ckpt = OriginalCheckpoint.From(torch);
            var model = ckpt.CreateModel(parse.GetValue(method));
            string? vocabJson = null;
            if (parse.GetValue(vocab) is { } vocabPath)
            {
                var words = VocabularyFile.Load(vocabPath);
                if (model.Config is MatchingConfig c && words.Count != c.VocabSize)
                    throw new CliException($"{vocabPath}: {words.Count} words, but the checkpoint's word embedding has {c.VocabSize} rows.");
                vocabJson = words.ToJson();
            }
            ModelFile.Save(target, model, vocabJson);
            string tensors = string.Join(" + ", ckpt.Weights.Count == 2 ? new[] { $"{ckpt.Weights[0].Count} image", $"{ckpt.Weights[1].Count} text" } : ckpt.Weights.Select(w => w.Count.ToString()));
            Console.WriteLine($"imported {source} ({torch.Format.ToString().ToLowerInvariant()}, {model.Family.Name}, {tensors} tensors, epoch {ckpt.Epoch?.ToString() ?? "?"}) -> {target}");
            return 0;
        });
        return cmd;
    }
}
