using System.CommandLine;
using CrossModal.Data;
using CrossModal.Text;

namespace CrossModal.Cli.Commands;

/// <summary>`crossmodal data check --data DIR [--vocab FILE] [--split S]`: opens and validates precomp splits.</summary>
internal static class DataCheckCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Precomp data folder ({split}_ims.npy, {split}_caps.txt, ...).", Required = true };
        var vocab = new Option<string?>("--vocab") { Description = "SCAN vocabulary JSON (default: DATA/vocab.json)." };
        var split = new Option<string?>("--split") { Description = "Split to check (default: every split present)." };
        var cmd = new Command("check", "Validate a precomp data folder (counts, finite features, UTF-8 captions, ids) and summarise it.");
        cmd.Options.Add(data);
        cmd.Options.Add(vocab);
        cmd.Options.Add(split);
        cmd.SetAction((parse, cancellationToken) =>
        {
            string dir = parse.GetValue(data)!;
            string vocabPath = parse.GetValue(vocab) ?? Path.Combine(dir, "vocab.json");
            if (!File.Exists(vocabPath))
                throw new CliException($"{vocabPath}: vocabulary not found; pass --vocab (e.g. vocab/f30k_precomp_vocab.json).");
            var vocabulary = Vocabulary.Load(vocabPath);
            var splits = parse.GetValue(split) is { } s ? new[] { s } : PrecompDataset.FindSplits(dir);
            if (splits.Count == 0) throw new CliException($"{dir}: no split found (expected {{split}}_ims.npy and {{split}}_caps.txt).");
            foreach (var name in splits)
            {
                using var d = PrecompDataset.Open(dir, name, vocabulary, cancellationToken: cancellationToken);
                long words = 0, unknown = 0;
                for (int k = 0; k < d.CaptionCount; k++)
                {
                    var ids = d.CaptionTokens(k);
                    words += ids.Length - 2;
                    foreach (int id in ids[1..^1]) if (id == vocabulary.UnkId) unknown++;
                }
                string shape = d.Regions > 0 ? $"{d.ImageCount} x {d.Regions} x {d.FeatureDim}" : $"{d.ImageCount} x {d.FeatureDim}";
                Console.WriteLine($"{name}: images {shape}, {d.CaptionCount} captions ({(d.ImageDivisor == 5 ? "5 per image" : "one feature row per caption")}), " +
                    $"ids {(d.ImageIds is null ? "absent" : "present")}, unknown words {100.0 * unknown / Math.Max(1, words):F2}% of {words}");
            }
            return Task.FromResult(0);
        });
        return cmd;
    }
}
