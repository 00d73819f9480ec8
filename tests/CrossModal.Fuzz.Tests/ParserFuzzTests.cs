using CrossModal.Fuzz;

namespace CrossModal.Fuzz.Tests;

/// <summary>
/// CI's share of the fuzz runner (tools/fuzz): the first inputs of every parser's sequence, from the same generator
/// and seed as the full run of 10,000 per parser, so a failure here is input #i of the full run too (replay it with
/// <c>dotnet run -c Release --project tools/fuzz/CrossModal.Fuzz -- --parser NAME --replay i</c>). A pass: every
/// input loads or is refused with InvalidDataException naming it, within the parser's allocation budget; a hang ends
/// at the test's timeout. Failing inputs are written to the test output with how they were made.
/// </summary>
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    /// <summary>Inputs per parser: the target's CI share (200-2,000; the full run has 10,000), or CROSSMODAL_FUZZ_INPUTS locally.</summary>
    private static int InputsFor(FuzzTarget target) =>
        int.TryParse(Environment.GetEnvironmentVariable("CROSSMODAL_FUZZ_INPUTS"), out int n) && n > 0 ? n : target.CiInputs;

    public static TheoryData<string> Parsers() => new(FuzzTargets.All.Select(t => t.Name));

    [Theory(Timeout = 600_000)]
    [MemberData(nameof(Parsers))]
    public async Task Should_LoadOrRefuseEveryMutatedInput_WithinItsBudget(string parser)
    {
        var target = FuzzTargets.Get(parser);
        int inputs = InputsFor(target);
        string work = Directory.CreateTempSubdirectory("crossmodal-fuzz-test-").FullName;
        try
        {
            var runner = new FuzzRunner(FuzzRunner.DefaultSeed, work, crashFolder: null);
            var ct = TestContext.Current.CancellationToken;
            var report = await Task.Run(() => runner.Run(target, 0, inputs, cancellationToken: ct), ct);
            output.WriteLine(report.ToString());
            foreach (var (index, how, outcome) in report.Failures.Take(20))
                output.WriteLine($"FAILURE #{index} ({how}): {outcome.Kind}: {outcome.Message}");
            foreach (var m in report.Samples.Take(5)) output.WriteLine("  e.g. " + m);
            Assert.True(report.Failures.Count == 0, $"{report.Failures.Count} of {inputs} inputs failed (see the test output); first: {report.Failures.Select(f => $"#{f.Index} {f.Outcome.Kind}: {f.Outcome.Message.Split('\n')[0]}").FirstOrDefault()}");
            Assert.Equal(inputs, report.Inputs);
            // Mutations must exercise both outcomes, or the parser is not being reached (or nothing is mutated).
            Assert.True(report.Loaded > 0 && report.Refused > 0, $"{report.Loaded} loaded, {report.Refused} refused");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void Should_GenerateTheSameInput_ForTheSameSeedAndIndex()
    {
        foreach (var target in FuzzTargets.All)
        {
            var a = FuzzRunner.Generate(target, FuzzRunner.DefaultSeed, 1234);
            var b = FuzzRunner.Generate(target, FuzzRunner.DefaultSeed, 1234);
            Assert.Equal(a.How, b.How);
            Assert.Equal(a.Files.Keys, b.Files.Keys);
            foreach (var k in a.Files.Keys) Assert.Equal(a.Files[k], b.Files[k]);
            // Neighbouring indexes and another seed give other inputs.
            Assert.NotEqual(a.How + a.TotalBytes, FuzzRunner.Generate(target, FuzzRunner.DefaultSeed, 1235).How + FuzzRunner.Generate(target, FuzzRunner.DefaultSeed, 1235).TotalBytes);
        }
    }

    [Fact]
    public void Should_JudgeOutcomes_AsTheIssueDefinesAPass()
    {
        // The oracle itself: an exception of another type, an unnamed refusal and an allocation over budget fail.
        string work = Directory.CreateTempSubdirectory("crossmodal-fuzz-oracle-").FullName;
        try
        {
            var runner = new FuzzRunner(1, work, null);
            FuzzTarget Target(Action<FuzzInput, string> parse) => new()
            {
                Name = "probe", Api = "test", Seeds = [FuzzSeed.Single("x.bin", [1, 2, 3])], Mutate = (s, _) => (s.Files, "none"),
                OnDisk = false, Parse = parse, BytesPerInputByte = 1, FixedBytes = 1 << 16, BudgetReason = "test",
            };
            var input = new FuzzInput(7, "x.bin", new Dictionary<string, byte[]> { ["x.bin"] = [1, 2, 3] }, "none");
            Assert.Equal("loaded", runner.RunOne(Target((_, _) => { }), input).Kind);
            Assert.Equal("refused", runner.RunOne(Target((_, name) => throw new InvalidDataException($"{name}: bad")), input).Kind);
            Assert.Equal("unnamed", runner.RunOne(Target((_, _) => throw new InvalidDataException("bad")), input).Kind);
            Assert.Equal("exception", runner.RunOne(Target((_, _) => throw new IndexOutOfRangeException()), input).Kind);
            Assert.Equal("allocation", runner.RunOne(Target((_, _) => GC.KeepAlive(new byte[1 << 20])), input).Kind);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
