namespace CrossModal.Benchmarks.Suites;

/// <summary>Checks the harness itself: times an empty loop. Real suites live beside this file.</summary>
internal static class SelfTestSuite
{
    public static IEnumerable<BenchResult> Run(BenchContext ctx)
    {
        double s = ctx.BestSeconds(() => { }, 3, 0.01);
        yield return new BenchResult("selftest", "noop", 1, "s", s);
    }
}
