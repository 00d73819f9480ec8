using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using CrossModal.Models.Files;
using CrossModal.Models.Scan;
using CrossModal.Tensors;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Cli.Tests;

/// <summary>`crossmodal serve` as a user runs it: a real process on a free loopback port, stopped with SIGINT (Ctrl+C).</summary>
[Collection("Console")]
public sealed class ServeCommandTests
{
    [Fact]
    public void Should_ExitWith1AndNameTheFile_WhenTheCheckpointIsMissing()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.safetensors");
        var (exit, _, err) = CliRun.Run("serve", "--checkpoint", missing, "--data", TestData.Path("f8k-1k-precomp"));
        Assert.Equal(1, exit);
        Assert.Contains(missing, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Should_ExitWith1_OnAPortOutOfRange()
    {
        var (exit, _, err) = CliRun.Run("serve", "--checkpoint", "m.safetensors", "--data", ".", "--port", "70000");
        Assert.Equal(1, exit);
        Assert.Contains("--port must be 0..65535", err);
    }

    [Fact]
    public async Task Should_ServeOnLoopback_AndStopCleanlyOnCtrlC()
    {
        var token = TestContext.Current.CancellationToken;
        var vocab = Vocabulary.Load(TestData.Path("vocab", "f8k_precomp_vocab.json"));
        var model = new ScanModel(new ScanConfig { ImgDim = 512, EmbedSize = 16, WordDim = 8, VocabSize = vocab.Count }, new Rng(5));
        string dir = Path.Combine(Path.GetTempPath(), $"crossmodal-serve-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string checkpoint = Path.Combine(dir, "model.safetensors");
            ModelFile.Save(checkpoint, model, vocab.ToJson());
            var psi = new ProcessStartInfo(SimdWidths.DotnetHost()) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "exec", Path.Combine(AppContext.BaseDirectory, "crossmodal.dll"), "serve", "--checkpoint", checkpoint,
                         "--data", TestData.Path("f8k-1k-precomp"), "--split", "test", "--images", TestData.Path("f8k-1k", "images"), "--port", "0" })
                psi.ArgumentList.Add(a);
            using var process = Process.Start(psi)!;
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
                string hostPort = await listening.Task.WaitAsync(TimeSpan.FromMinutes(3), token);
                Assert.StartsWith("127.0.0.1:", hostPort); // loopback unless --host says otherwise
                using var http = new HttpClient { BaseAddress = new Uri($"http://{hostPort}") };
                var health = await http.GetFromJsonAsync<JsonElement>("/api/health", token);
                Assert.Equal(125, health.GetProperty("images").GetInt32());
                var search = await http.GetFromJsonAsync<JsonElement>("/api/search?q=a%20dog&k=3", token);
                Assert.Equal(3, search.GetProperty("results").GetArrayLength());

                using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync(token);
                await process.WaitForExitAsync(token).WaitAsync(TimeSpan.FromMinutes(1), token);
                Assert.Equal(0, process.ExitCode);
                lock (err) Assert.Contains("serve: stopped", err.ToString());
            }
            finally
            {
                if (!process.HasExited) process.Kill();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
