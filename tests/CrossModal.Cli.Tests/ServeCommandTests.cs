using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using CrossModal.Models.Files;
using CrossModal.Models.Scan;
using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Cli.Tests;

/// <summary>
/// `crossmodal serve` as a user runs it: a gallery index built by `crossmodal index build`, served by a real process on
/// a free loopback port, stopped with SIGINT (Ctrl+C); every bad gallery (missing, foreign, truncated index, another
/// checkpoint) is one clear line and exit code 1.
/// </summary>
[Collection("Console")]
public sealed class ServeCommandTests : IDisposable
{
    private readonly TempFolder _dir = new("cm-serve-");
    private readonly string _checkpoint;

    public ServeCommandTests()
    {
        var vocab = Vocabulary.Load(TestData.Path("vocab", "f8k_precomp_vocab.json"));
        _checkpoint = _dir.File("model.safetensors");
        ModelFile.Save(_checkpoint, new ScanModel(new ScanConfig { ImgDim = 512, EmbedSize = 16, WordDim = 8, VocabSize = vocab.Count }, new Rng(5)), vocab.ToJson());
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>`crossmodal index build` of the f8k-1k test split with its JPEGs, captions and SqueezeNet recorded.</summary>
    private string BuildIndex()
    {
        string index = _dir.File("gallery.index");
        var (exit, _, err) = CliRun.Run("index", "build", "--checkpoint", _checkpoint, "--data", TestData.Path("f8k-1k-precomp"), "--split", "test",
            "--image-root", TestData.Path("f8k-1k", "images"), "--captions", "--onnx", TestData.Path("squeezenet", "SqueezeNet_fp16.onnx"), "--out", index);
        Assert.True(exit == 0, err);
        return index;
    }

    private static void AssertOneLineError((int Exit, string Out, string Err) run, params string[] words)
    {
        Assert.Equal(1, run.Exit);
        foreach (var w in words) Assert.Contains(w, run.Err);
        Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Should_ExitWith1AndNameTheFile_WhenTheIndexIsMissing()
    {
        var missing = _dir.File("missing.index");
        AssertOneLineError(CliRun.Run("serve", "--index", missing), missing, "not found");
    }

    [Fact]
    public void Should_ExitWith1_ForAForeignOrTruncatedIndex_OrAnotherCheckpoint()
    {
        string index = BuildIndex();
        AssertOneLineError(CliRun.Run("serve", "--index", _checkpoint), _checkpoint, "not a CrossModal gallery index");
        var bytes = File.ReadAllBytes(index);
        string cut = _dir.File("cut.index");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        AssertOneLineError(CliRun.Run("serve", "--index", cut), cut, "truncated");

        // Another file given for the recorded checkpoint, and the recorded file replaced by another model: both refused.
        string other = _dir.File("other.safetensors");
        File.Copy(_checkpoint, other);
        File.AppendAllText(other, "x");
        AssertOneLineError(CliRun.Run("serve", "--index", index, "--checkpoint", other), index, "was built with the checkpoint", "sha256");
        File.Copy(other, _checkpoint, overwrite: true);
        AssertOneLineError(CliRun.Run("serve", "--index", index), index, "was built with the checkpoint", "sha256");
    }

    [Fact]
    public void Should_ExitWith1_WithoutExactlyOneGallery()
    {
        AssertOneLineError(CliRun.Run("serve"), "exactly one gallery");
        AssertOneLineError(CliRun.Run("serve", "--index", "g.index", "--data", "."), "exactly one gallery");
    }

    [Fact]
    public void Should_ExitWith1AndNameTheFile_WhenTheCheckpointOfTheDataFormIsMissing()
    {
        var missing = _dir.File("missing.safetensors");
        AssertOneLineError(CliRun.Run("serve", "--checkpoint", missing, "--data", TestData.Path("f8k-1k-precomp")), missing);
    }

    [Fact]
    public void Should_ExitWith1_OnAPortOutOfRange()
    {
        var (exit, _, err) = CliRun.Run("serve", "--index", "g.index", "--port", "70000");
        Assert.Equal(1, exit);
        Assert.Contains("--port must be 0..65535", err);
    }

    /// <summary>Starts `crossmodal serve ARGS --port 0` as a child process and waits until it listens; returns it, its host:port and its stderr so far.</summary>
    private static async Task<(Process Process, string HostPort, System.Text.StringBuilder Err)> StartServer(CancellationToken token, params string[] args)
    {
        var psi = new ProcessStartInfo(SimdWidths.DotnetHost()) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "exec", Path.Combine(AppContext.BaseDirectory, "crossmodal.dll"), "serve" }.Concat(args).Append("--port").Append("0"))
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var err = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            const string marker = "serve: listening on ";
            if (e.Data.StartsWith(marker, StringComparison.Ordinal)) listening.TrySetResult(e.Data[marker.Length..].Split('/', 4)[2]);
        };
        process.BeginErrorReadLine();
        try
        {
            return (process, await listening.Task.WaitAsync(TimeSpan.FromMinutes(3), token), err);
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Ctrl+C (SIGINT), or SIGTERM when this process ignores SIGINT: a test run started in the background by a
    /// non-interactive shell has SIGINT ignored, the server inherits that, and .NET keeps an inherited ignored SIGINT
    /// ignored. The server's host stops the same way on both.
    /// </summary>
    private static async Task StopWithCtrlC(Process process, System.Text.StringBuilder err, CancellationToken token)
    {
        string signal = SigintIgnored() ? "-TERM" : "-INT";
        using (var kill = Process.Start("kill", [signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync(token);
        await process.WaitForExitAsync(token).WaitAsync(TimeSpan.FromMinutes(1), token);
        Assert.Equal(0, process.ExitCode);
        lock (err) Assert.Contains("serve: stopped", err.ToString());
    }

    /// <summary>Whether SIGINT (signal 2) is in this process's ignored set (/proc/self/status, SigIgn: a hex mask, bit 1).</summary>
    private static bool SigintIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 2UL) != 0;
    }

    [Fact]
    public async Task Should_ServeAnIndexOnLoopback_AndStopCleanlyOnCtrlC()
    {
        var token = TestContext.Current.CancellationToken;
        string index = BuildIndex();
        var (process, hostPort, err) = await StartServer(token, "--index", index);
        using var _ = process;
        try
        {
            Assert.StartsWith("127.0.0.1:", hostPort); // loopback unless --host says otherwise
            using var http = new HttpClient { BaseAddress = new Uri($"http://{hostPort}") };
            var health = await http.GetFromJsonAsync<JsonElement>("/api/health", token);
            Assert.Equal(125, health.GetProperty("images").GetInt32());
            Assert.Equal(625, health.GetProperty("captions").GetInt32());
            Assert.True(health.GetProperty("imageSearch").GetBoolean()); // the CNN the index records
            Assert.Contains(Path.GetFullPath(index), health.GetProperty("gallery").GetString());
            var search = await http.GetFromJsonAsync<JsonElement>("/api/search?q=a%20dog&k=3", token);
            Assert.Equal(3, search.GetProperty("results").GetArrayLength());
            int id = search.GetProperty("results")[0].GetProperty("id").GetInt32();
            string name = search.GetProperty("results")[0].GetProperty("name").GetString()!;
            // The thumbnail is the file the index records for the item.
            Assert.Equal(File.ReadAllBytes(Path.Combine(TestData.Path("f8k-1k", "images"), name)), await http.GetByteArrayAsync($"/api/items/{id}/thumbnail", token));
            var explain = await http.GetFromJsonAsync<JsonElement>($"/api/explain?q=a%20dog&id={id}", token);
            Assert.Equal("word_region_attention", explain.GetProperty("kind").GetString());
            Assert.Equal(search.GetProperty("results")[0].GetProperty("score").GetSingle(), explain.GetProperty("score").GetSingle(), 1e-4f);
            await StopWithCtrlC(process, err, token);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    [Fact]
    public async Task Should_ServeThePrecompForm_AsTheIndexBuiltFromTheSameData()
    {
        // --checkpoint --data encodes the split at start-up through CrossModal.Search's builder: the same answers as the index file.
        var token = TestContext.Current.CancellationToken;
        string index = BuildIndex();
        var (fromIndex, indexHost, indexErr) = await StartServer(token, "--index", index);
        var (fromData, dataHost, dataErr) = await StartServer(token, "--checkpoint", _checkpoint, "--data", TestData.Path("f8k-1k-precomp"), "--split", "test",
            "--images", TestData.Path("f8k-1k", "images"));
        try
        {
            using var a = new HttpClient { BaseAddress = new Uri($"http://{indexHost}") };
            using var b = new HttpClient { BaseAddress = new Uri($"http://{dataHost}") };
            foreach (var url in new[] { "/api/search?q=two%20dogs%20play&k=10", "/api/search?q=a%20man%20on%20a%20bike&k=10&mode=two-stage", "/api/items/17" })
            {
                var x = await a.GetFromJsonAsync<JsonElement>(url, token);
                var y = await b.GetFromJsonAsync<JsonElement>(url, token);
                string Key(JsonElement e) => e.TryGetProperty("results", out var r) ? r.GetRawText() : e.GetRawText();
                Assert.Equal(Key(x), Key(y));
            }
            Assert.Equal(125, (await b.GetFromJsonAsync<JsonElement>("/api/health", token)).GetProperty("images").GetInt32());
            await StopWithCtrlC(fromIndex, indexErr, token);
            await StopWithCtrlC(fromData, dataErr, token);
        }
        finally
        {
            if (!fromIndex.HasExited) fromIndex.Kill();
            if (!fromData.HasExited) fromData.Kill();
            fromIndex.Dispose();
            fromData.Dispose();
        }
    }
}
