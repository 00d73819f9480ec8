using System.CommandLine;

namespace CrossModal.Cli.Commands;

/// <summary>`crossmodal demo`: the README's main job on the built-in data (filled in by the VSE++ work).</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var cmd = new Command("demo", "Generate the built-in demo data, train a model, evaluate it, and show text-to-image results.");
        cmd.SetAction(_ =>
        {
            Console.WriteLine("crossmodal demo: the engine is in place; training and evaluation arrive with the VSE++ work.");
            return 0;
        });
        return cmd;
    }
}
