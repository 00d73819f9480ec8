namespace CrossModal.Distributed.Tests;

/// <summary>
/// The collectives' contract checked from inside one rank against hand-computed expectations (every value is a small
/// integer or half-integer, exact in float32, so the sums are exact whatever the order). The in-process tests run
/// them on threads; <see cref="MpiCommunicatorTests"/> runs them on Open MPI ranks started by mpirun.
/// </summary>
internal static class CollectiveChecks
{
    public static void All(ICommunicator c)
    {
        AllReduce(c);
        StartedAllReduce(c);
        AllGather(c);
        ReduceScatter(c);
        Gather(c);
        Broadcast(c);
        c.Barrier();
        Assert.Equal(1, c.Stats.Calls(CollectiveKind.Barrier));
    }

    public static void AllReduce(ICommunicator c)
    {
        int n = c.Size, s = n * (n + 1) / 2;
        var f = Enumerable.Range(0, 1000).Select(i => (c.Rank + 1) * (i + 1) * 0.5f).ToArray();
        c.AllReduce<float>(f, ReduceOperation.Sum);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (i + 1) * 0.5f * s).ToArray(), f);
        var d = Enumerable.Range(0, 10).Select(i => (double)(c.Rank - i)).ToArray();
        c.AllReduce<double>(d, ReduceOperation.Max);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (double)(n - 1 - i)).ToArray(), d);
        var k = Enumerable.Range(0, 10).Select(i => c.Rank * 10 + i).ToArray();
        c.AllReduce<int>(k, ReduceOperation.Min);
        Assert.Equal(Enumerable.Range(0, 10).ToArray(), k);
        long[] big = { (1L << 40) + c.Rank };
        c.AllReduce<long>(big, ReduceOperation.Sum);
        Assert.Equal(n * (1L << 40) + (long)n * (n - 1) / 2, big[0]);
        // Three million floats: MPI cuts large messages into segments (ring / pipelined algorithms).
        var large = new float[3_000_000];
        for (int i = 0; i < large.Length; i++) large[i] = c.Rank + i % 7;
        c.AllReduce<float>(large, ReduceOperation.Sum);
        for (int i = 0; i < large.Length; i++)
            if (large[i] != n * (n - 1) / 2 + n * (i % 7)) Assert.Fail($"large all-reduce: element {i} is {large[i]}, expected {n * (n - 1) / 2 + n * (i % 7)}.");
    }

    /// <summary>
    /// The all-reduce started without waiting (what data-parallel training overlaps with its backward): two in flight
    /// at once, tested while this rank computes, then waited for; the second one sums only its slice.
    /// </summary>
    public static void StartedAllReduce(ICommunicator c)
    {
        int n = c.Size, s = n * (n - 1) / 2;
        var a = Enumerable.Range(0, 1_000_000).Select(i => (float)(c.Rank + i % 5)).ToArray();
        var b = Enumerable.Range(0, 1000).Select(i => (float)(10 * c.Rank + i % 3)).ToArray();
        var first = c.StartAllReduceSum(a, 0, a.Length);
        var second = c.StartAllReduceSum(b, 10, 990);
        for (int k = 0; k < 100 && !(first.Test() & second.Test()); k++) Thread.SpinWait(1000);
        first.Wait();
        second.Wait();
        Assert.True(first.Test() && second.Test());
        for (int i = 0; i < a.Length; i++)
            if (a[i] != s + n * (i % 5)) Assert.Fail($"started all-reduce: element {i} is {a[i]}, expected {s + n * (i % 5)}.");
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => i < 10 ? 10f * c.Rank + i % 3 : 10f * s + n * (i % 3)).ToArray(), b);
    }

    public static void AllGather(ICommunicator c)
    {
        // Rank r sends r % 3 values (rank 0 and every third send none): 100 r + k.
        var counts = Enumerable.Range(0, c.Size).Select(r => r % 3).ToArray();
        var local = Enumerable.Range(0, counts[c.Rank]).Select(k => 100f * c.Rank + k).ToArray();
        var result = new float[counts.Sum()];
        c.AllGatherV<float>(local, result, counts);
        var expected = Enumerable.Range(0, c.Size).SelectMany(r => Enumerable.Range(0, r % 3).Select(k => 100f * r + k)).ToArray();
        Assert.Equal(expected, result);
        var ints = new int[c.Size];
        c.AllGatherV<int>(new[] { c.Rank * 7 }, ints, Enumerable.Repeat(1, c.Size).ToArray());
        Assert.Equal(Enumerable.Range(0, c.Size).Select(r => r * 7).ToArray(), ints);
    }

    public static void ReduceScatter(ICommunicator c)
    {
        // Every rank contributes input[i] = i (rank + 1); rank r receives its block of the sum, i S.
        var counts = Enumerable.Range(0, c.Size).Select(r => r % 3 + 1).ToArray();
        int total = counts.Sum(), offset = counts.Take(c.Rank).Sum(), s = c.Size * (c.Size + 1) / 2;
        var input = Enumerable.Range(0, total).Select(i => (float)(i * (c.Rank + 1))).ToArray();
        var local = new float[counts[c.Rank]];
        c.ReduceScatterV<float>(input, local, counts);
        Assert.Equal(Enumerable.Range(offset, counts[c.Rank]).Select(i => (float)(i * s)).ToArray(), local);
    }

    public static void Gather(ICommunicator c)
    {
        int root = c.Size - 1;
        var counts = Enumerable.Range(0, c.Size).Select(r => r + 1).ToArray();
        var local = Enumerable.Repeat((double)c.Rank, c.Rank + 1).ToArray();
        var result = c.Rank == root ? new double[counts.Sum()] : Array.Empty<double>();
        c.GatherV<double>(local, result, counts, root);
        if (c.Rank == root) Assert.Equal(Enumerable.Range(0, c.Size).SelectMany(r => Enumerable.Repeat((double)r, r + 1)).ToArray(), result);
    }

    public static void Broadcast(ICommunicator c)
    {
        int root = c.Size / 2;
        var bytes = c.Rank == root ? new byte[] { 3, 1, 4, 1, 5 } : new byte[5];
        c.Broadcast<byte>(bytes, root);
        Assert.Equal(new byte[] { 3, 1, 4, 1, 5 }, bytes);
        var floats = Enumerable.Range(0, 100).Select(i => c.Rank == root ? i * 0.25f : -1f).ToArray();
        c.Broadcast<float>(floats, root);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * 0.25f).ToArray(), floats);
    }
}
