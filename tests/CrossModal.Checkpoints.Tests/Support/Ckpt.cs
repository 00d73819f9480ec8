namespace CrossModal.Checkpoints.Tests.Support;

/// <summary>Loads with the test's cancellation token (tests stay cancellable; xUnit1051).</summary>
internal static class Ckpt
{
    public static TorchCheckpoint Load(string path, TorchLoadLimits? limits = null) =>
        TorchCheckpoint.Load(path, limits, TestContext.Current.CancellationToken);

    public static TorchCheckpoint Parse(byte[] bytes, string name, TorchLoadLimits? limits = null) =>
        TorchCheckpoint.Parse(bytes, name, limits, TestContext.Current.CancellationToken);

    public static object? Pickle(byte[] bytes, string name, IReadOnlyCollection<string>? inert = null) =>
        PickleFile.Parse(bytes, name, inert, null, TestContext.Current.CancellationToken);
}
