using System.CommandLine;

namespace CrossModal.Cli.Commands;

/// <summary>`crossmodal data ...`: data-folder verbs (synth, check).</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var cmd = new Command("data", "Create and check data folders (SCAN precomp layout).");
        cmd.Subcommands.Add(DataSynthCommand.Create());
        cmd.Subcommands.Add(DataCheckCommand.Create());
        return cmd;
    }
}
