using System.CommandLine;
using CrossModal.Text;

namespace CrossModal.Cli.Commands;

/// <summary>`crossmodal vocab build --captions FILE... --out FILE [--threshold 4]`: a SCAN vocabulary from caption files.</summary>
internal static class VocabCommand
{
    public static Command Create()
    {
        var captions = new Option<string[]>("--captions") { Description = "Caption files (one caption per line), e.g. train_caps.txt dev_caps.txt as SCAN's vocab.py uses.", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Vocabulary JSON to write (SCAN format).", Required = true };
        var threshold = new Option<int>("--threshold") { Description = "Keep words seen at least this often.", DefaultValueFactory = _ => 4 };
        var build = new Command("build", "Build a SCAN vocabulary: NLTK word_tokenize of the lower-cased captions, words with count >= threshold in first-occurrence order.");
        build.Options.Add(captions);
        build.Options.Add(output);
        build.Options.Add(threshold);
        build.SetAction(parse =>
        {
            var files = parse.GetValue(captions)!;
            var lines = files.SelectMany(TextLines.Read).ToList();
            var vocabulary = Vocabulary.Build(lines, parse.GetValue(threshold));
            string path = parse.GetValue(output)!;
            vocabulary.Save(path);
            Console.WriteLine($"{vocabulary.Count} entries from {lines.Count} captions -> {path}");
            return 0;
        });
        var cmd = new Command("vocab", "SCAN vocabularies.");
        cmd.Subcommands.Add(build);
        return cmd;
    }
}
