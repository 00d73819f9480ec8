namespace CrossModal.Cli.Tests;

/// <summary>Runs the CLI in-process and captures its output.</summary>
internal static class CliRun
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var o = Console.Out;
        var e = Console.Error;
        var sout = new StringWriter();
        var serr = new StringWriter();
        Console.SetOut(sout);
        Console.SetError(serr);
        try
        {
            int code = CliApp.Run(args);
            return (code, sout.ToString(), serr.ToString());
        }
        finally
        {
            Console.SetOut(o);
            Console.SetError(e);
        }
    }
}
