using System.CommandLine;

namespace CrossModal.Cli.Commands;

/// <summary>`crossmodal index ...`: build, append to and describe gallery index files.</summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var cmd = new Command("index", "Gallery index files: encode a gallery once with a checkpoint, append to it, describe it.");
        cmd.Subcommands.Add(IndexBuildCommand.Create(append: false));
        cmd.Subcommands.Add(IndexBuildCommand.Create(append: true));
        cmd.Subcommands.Add(IndexInfoCommand.Create());
        return cmd;
    }
}
