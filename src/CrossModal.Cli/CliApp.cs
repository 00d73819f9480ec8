using System.CommandLine;
using CrossModal.Cli.Commands;

namespace CrossModal.Cli;

/// <summary>Builds the `crossmodal` command from its verbs and runs it.</summary>
public static class CliApp
{
    /// <summary>Exit code for usage errors (unknown option, missing argument).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for data and runtime errors (bad file, shape mismatch, NaN loss).</summary>
    public const int DataError = 1;

    /// <summary>The root command with every verb.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("CrossModal: image-text retrieval (VSE++, SCAN, ... and category-level MASLN): train, evaluate, search.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(VocabCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(CaptionCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(FeaturesCommand.Create());
        root.Subcommands.Add(ClassvecCommand.Create());
        root.Subcommands.Add(BaselinesCommand.Create());
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        return root;
    }

    /// <summary>Parses and runs; usage errors print help and exit 2, data errors exit 1 with one message.</summary>
    public static int Run(string[] args)
    {
        var root = Build();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine();
            root.Parse(parse.CommandResult.Command == root ? new[] { "--help" } : GetCommandPath(parse.CommandResult).Append("--help").ToArray()).Invoke();
            return UsageError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or IOException
            or UnauthorizedAccessException or CliException or Training.TrainingDivergedException or Distributed.RankFailedException)
        {
            if (RankSession.Reports(e)) Console.Error.WriteLine($"error: {e.Message}");
            return DataError;
        }
    }

    private static IEnumerable<string> GetCommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null && r.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent) names.Push(r.Command.Name);
        return names;
    }
}
