using System.CommandLine;
using System.Text;
using CrossModal.Text;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal tokenize --input FILE`: one JSON array of tokens per input line, in the format of the golden files
/// (Python's json.dumps with ensure_ascii=False), so the output can be diffed against NLTK's.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "Text file with one caption per line (UTF-8), or - for standard input.", Required = true };
        var raw = new Option<bool>("--raw") { Description = "Tokenize each line as it is (no strip, no lower-casing); default: as the originals prepare captions." };
        var cmd = new Command("tokenize", "Tokenize captions with the NLTK word_tokenize port; prints one JSON array per line.");
        cmd.Options.Add(input);
        cmd.Options.Add(raw);
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(input)!;
            bool asIs = parse.GetValue(raw);
            string[] lines = path == "-" ? TextLines.Read(Console.OpenStandardInput(), "<stdin>") : TextLines.Read(path);
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
            foreach (var line in lines)
            {
                var tokens = asIs ? WordTokenizer.Tokenize(line) : WordTokenizer.TokenizeCaption(line);
                stdout.WriteLine(PythonJson.StringArray(tokens));
            }
            return 0;
        });
        return cmd;
    }
}
