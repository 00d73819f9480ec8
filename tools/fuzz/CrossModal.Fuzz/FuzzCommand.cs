using System.Globalization;
using System.Text.Json.Nodes;

namespace CrossModal.Fuzz;

/// <summary>
/// The command line of the fuzz runner:
/// <code>
/// crossmodal-fuzz [--parser NAME]... [--inputs N] [--start K] [--seed S] [--crashes DIR] [--json FILE] [--hang-seconds S]
/// crossmodal-fuzz --parser NAME --replay INDEX        one generated input again, with the full outcome
/// crossmodal-fuzz --parser NAME --file PATH...        saved files (a crash folder's files) through the parser
/// crossmodal-fuzz --list                              the parsers, their seeds and budgets
/// </code>
/// Exit code 0 when every input passed, 1 when any failed, 2 on a usage error, 3 on a hang.
/// </summary>
public static class FuzzCommand
{
    /// <summary>Runs the command; returns the exit code.</summary>
    public static int Run(string[] args)
    {
        var parsers = new List<string>();
        var files = new List<string>();
        int inputs = 10_000, start = 0;
        int? replay = null;
        ulong seed = FuzzRunner.DefaultSeed;
        string crashes = Path.Combine(Environment.CurrentDirectory, "fuzz-crashes");
        string? json = null;
        double hangSeconds = 120;
        bool list = false;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--parser": parsers.Add(Next()); break;
                    case "--inputs": inputs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--start": start = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--seed": seed = ParseSeed(Next()); break;
                    case "--crashes": crashes = Path.GetFullPath(Next()); break;
                    case "--json": json = Next(); break;
                    case "--hang-seconds": hangSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--replay": replay = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--file": files.Add(Path.GetFullPath(Next())); break;
                    case "--list": list = true; break;
                    case "-h" or "--help":
                        Console.WriteLine(Usage);
                        return 0;
                    default: throw new ArgumentException($"unknown option {args[i]}.");
                }
            }
            if (inputs < 0 || start < 0) throw new ArgumentException("--inputs and --start must not be negative.");
            if ((replay is not null || files.Count > 0) && parsers.Count != 1) throw new ArgumentException("--replay and --file need exactly one --parser.");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"error: {e.Message}\n\n{Usage}");
            return 2;
        }

        if (list)
        {
            foreach (var t in FuzzTargets.All)
                Console.WriteLine($"{t.Name,-15} {t.Seeds.Count,3} seeds  budget {t.BytesPerInputByte}x size + {t.FixedBytes >> 20} MiB  {t.Api}");
            foreach (var (name, reason) in FuzzTargets.Pending) Console.WriteLine($"{name,-15} pending: {reason}");
            return 0;
        }

        IReadOnlyList<FuzzTarget> targets;
        try
        {
            targets = parsers.Count == 0 ? FuzzTargets.All : parsers.Select(FuzzTargets.Get).ToList();
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        string work = Directory.CreateTempSubdirectory("crossmodal-fuzz-").FullName;
        try
        {
            var runner = new FuzzRunner(seed, work, crashes) { HangLimit = TimeSpan.FromSeconds(hangSeconds) };
            if (replay is { } index) return Replay(runner, targets[0], FuzzRunner.Generate(targets[0], seed, index));
            if (files.Count > 0)
                return Replay(runner, targets[0], new FuzzInput(0, "files", files.ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes), "as saved"));

            Console.WriteLine($"fuzzing {targets.Count} parsers, inputs {start}..{start + inputs - 1} each, seed 0x{seed:x}; failing inputs go to {crashes}");
            var reports = new List<TargetReport>();
            var total = System.Diagnostics.Stopwatch.StartNew();
            foreach (var target in targets)
            {
                var report = runner.Run(target, start, inputs, Console.Error.WriteLine);
                reports.Add(report);
                Console.WriteLine(report);
            }
            int failures = reports.Sum(r => r.Failures.Count);
            Console.WriteLine($"total: {reports.Sum(r => r.Inputs)} inputs, {failures} failures, {total.Elapsed.TotalMinutes:F1} minutes");
            foreach (var (name, reason) in FuzzTargets.Pending) Console.WriteLine($"not fuzzed: {name}: {reason}");
            if (json is not null)
            {
                var o = new JsonObject
                {
                    ["seed"] = $"0x{seed:x}", ["start"] = start, ["inputs_per_parser"] = inputs,
                    ["minutes"] = Math.Round(total.Elapsed.TotalMinutes, 2), ["failures"] = failures,
                    ["parsers"] = new JsonArray(reports.Select(r => (JsonNode)r.ToJson()).ToArray()),
                };
                File.WriteAllText(json, o.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            }
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static int Replay(FuzzRunner runner, FuzzTarget target, FuzzInput input)
    {
        var outcome = runner.RunOne(target, input);
        Console.WriteLine($"{target.Name} #{input.Index} ({input.Seed}: {input.How}), {input.TotalBytes} bytes");
        Console.WriteLine($"outcome: {outcome.Kind}, {outcome.AllocatedBytes:N0} bytes allocated (budget {target.Budget(input.TotalBytes):N0}), {outcome.Milliseconds:F1} ms");
        if (outcome.Message.Length > 0) Console.WriteLine(outcome.Message);
        if (!outcome.Passed) Console.WriteLine($"saved to {runner.Save(target, input, outcome)}");
        return outcome.Passed ? 0 : 1;
    }

    private static ulong ParseSeed(string s) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? ulong.Parse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) : ulong.Parse(s, CultureInfo.InvariantCulture);

    private const string Usage = """
        crossmodal-fuzz: seeded, reproducible mutation fuzzing of every CrossModal parser (issue 20).

          --parser NAME       a parser to fuzz (repeatable; default: all; --list shows them)
          --inputs N          inputs per parser (default 10000)
          --start K           first input index (default 0); input i is the same in every run with the same seed
          --seed S            master seed (default 0x5eedc0de2024, the one CI uses)
          --crashes DIR       where failing inputs are saved (default ./fuzz-crashes)
          --json FILE         also write the counts as JSON
          --hang-seconds S    an input running longer is saved as a hang and the run stops (default 120)
          --replay INDEX      run input INDEX of one --parser again and print its outcome
          --file PATH         run saved files (e.g. a crash folder's) through one --parser
          --list              list the parsers, their seeds and allocation budgets

        A pass: the parser returns, or throws InvalidDataException naming the input; never another exception, never
        more allocation than the parser's budget (a multiple of the input's size), never a hang.
        """;
}
