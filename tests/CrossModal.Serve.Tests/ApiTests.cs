using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CrossModal.Data;
using CrossModal.Models;
using CrossModal.Tensors.IO;
using CrossModal.Tests;

namespace CrossModal.Serve.Tests;

/// <summary>
/// Every endpoint and every error of the API, in-process (ASP.NET Core test server), over gallery index files built
/// in the test. Expected values come from the model handle and the data files directly, not from the server's code
/// paths: the images encoded from the precomp features, rounded to float16 as the index stores them.
/// </summary>
public sealed class ApiTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private SearchService Service(ServeOptions? options = null, bool withEncoder = true, Gallery? gallery = null) =>
        new(gallery ?? fixture.Gallery, options ?? new ServeOptions(), withEncoder ? fixture.Encoder : null);

    private static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        string body = await response.Content.ReadAsStringAsync(Token);
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "");
        return JsonDocument.Parse(body).RootElement;
    }

    /// <summary>An error answer: JSON {status, error} with the status repeated, a message containing <paramref name="words"/>, no stack trace.</summary>
    private static async Task AssertError(HttpResponseMessage response, HttpStatusCode status, string words)
    {
        var json = await Json(response, status);
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        string message = json.GetProperty("error").GetString()!;
        Assert.Contains(words, message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", message);
    }

    /// <summary>The test split's images encoded by the model from the precomp file, in float32.</summary>
    private EmbeddingSet EncodedTestImages()
    {
        using var data = PrecompDataset.Open(ServeFixture.DataDirectory, "test", fixture.Scan.Vocabulary, cancellationToken: Token);
        return fixture.Scan.EncodeImages(data);
    }

    /// <summary>Every value of <paramref name="set"/> rounded to float16 and back (the precision the index stores rows in).</summary>
    private static EmbeddingSet RoundedToHalf(EmbeddingSet set)
    {
        var rounded = new EmbeddingSet(set.Dim);
        for (int i = 0; i < set.Count; i++) rounded.Append(set.Item(i).ToArray().Select(v => (float)(Half)v).ToArray());
        return rounded;
    }

    /// <summary>Scores of every gallery image for <paramref name="query"/>, straight from the model handle (float16-rounded rows, or float32).</summary>
    private float[] HandleScores(string query, bool half = true)
    {
        var caption = fixture.Scan.EncodeText([query]);
        var images = EncodedTestImages();
        if (half) images = RoundedToHalf(images);
        var scores = new float[images.Count];
        fixture.Scan.ScoreBlock(images, 0, images.Count, caption, 0, 1, scores, 1);
        return scores;
    }

    [Fact]
    public async Task Should_ReportHealth()
    {
        await using var host = await TestHost.StartAsync(Service());
        var json = await Json(await host.Client.GetAsync("/api/health", Token), HttpStatusCode.OK);
        Assert.Equal("ok", json.GetProperty("status").GetString());
        Assert.Equal("scan", json.GetProperty("model").GetString());
        Assert.Equal(125, json.GetProperty("images").GetInt32());
        Assert.Equal(36, json.GetProperty("regions").GetInt32());
        Assert.Equal(625, json.GetProperty("captions").GetInt32());
        Assert.True(json.GetProperty("captionsReady").GetBoolean());
        Assert.True(json.GetProperty("imageSearch").GetBoolean());
        Assert.Equal(100, json.GetProperty("limits").GetProperty("maxK").GetInt32());
    }

    [Fact]
    public async Task Should_RankEveryImageByTheModelsScore_InFullMode()
    {
        await using var host = await TestHost.StartAsync(Service());
        const string query = "a black dog runs through the grass";
        var json = await Json(await host.Client.GetAsync($"/api/search?q={Uri.EscapeDataString(query)}&k=10", Token), HttpStatusCode.OK);
        var expected = HandleScores(query);
        var order = Enumerable.Range(0, expected.Length).OrderByDescending(i => expected[i]).ThenBy(i => i).Take(10).ToArray();
        var results = json.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(10, results.Length);
        Assert.Equal(125, json.GetProperty("pairScores").GetInt64());
        Assert.Equal("full", json.GetProperty("mode").GetString());
        var ids = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_ids.txt"));
        for (int r = 0; r < 10; r++)
        {
            int id = results[r].GetProperty("id").GetInt32();
            Assert.Equal(order[r], id);
            Assert.Equal(expected[id], results[r].GetProperty("score").GetSingle(), 1e-5f);
            Assert.Equal(ids[id], results[r].GetProperty("name").GetString());
            Assert.Equal($"/api/items/{id}/thumbnail", results[r].GetProperty("thumbnail").GetString());
        }
        Assert.Empty(json.GetProperty("unknownWords").EnumerateArray());
        Assert.Equal(["a", "black", "dog", "runs", "through", "the", "grass"], json.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("word").GetString()));
        // float16 storage moves the scores of the float32 encodings by little (the Search tests' bound).
        var full = HandleScores(query, half: false);
        foreach (var r in results) Assert.Equal(full[r.GetProperty("id").GetInt32()], r.GetProperty("score").GetSingle(), 3e-3f);
    }

    [Fact]
    public async Task Should_ReScoreOnlyThePrerankedCandidates_InTwoStageMode()
    {
        const string query = "two children play in the water";
        var expected = HandleScores(query);
        // With room for the whole gallery the two stages find exactly what full scoring finds.
        await using (var host = await TestHost.StartAsync(Service(new ServeOptions { PrerankK = 1000 })))
        {
            var json = await Json(await host.Client.GetAsync($"/api/search?q={Uri.EscapeDataString(query)}&k=5&mode=two-stage", Token), HttpStatusCode.OK);
            var top = Enumerable.Range(0, expected.Length).OrderByDescending(i => expected[i]).ThenBy(i => i).Take(5);
            Assert.Equal(top, json.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetInt32()));
        }
        // With 16 candidates: 16 pair scores, results among the 16 best pooled vectors, ranked by the model's score.
        await using (var host = await TestHost.StartAsync(Service(new ServeOptions { PrerankK = 16 })))
        {
            var json = await Json(await host.Client.GetAsync($"/api/search?q={Uri.EscapeDataString(query)}&k=5&mode=two-stage", Token), HttpStatusCode.OK);
            Assert.Equal(16, json.GetProperty("pairScores").GetInt64());
            // The first stage: cosine of the mean word vector and each image's mean region vector (float32 encodings).
            var caption = fixture.Scan.EncodeText([query]);
            var images = EncodedTestImages();
            int d = fixture.Scan.EmbedSize;
            double[] Mean(ReadOnlySpan<float> rows)
            {
                var m = new double[d];
                for (int r = 0; r < rows.Length / d; r++) for (int k = 0; k < d; k++) m[k] += rows[r * d + k];
                return m;
            }
            var q = Mean(caption.Item(0));
            var cos = Enumerable.Range(0, 125).Select(i =>
            {
                var m = Mean(images.Item(i));
                return Enumerable.Range(0, d).Sum(k => q[k] * m[k]) / Math.Sqrt(m.Sum(x => x * x));
            }).ToArray();
            var candidates = Enumerable.Range(0, 125).OrderByDescending(i => cos[i]).Take(16).ToHashSet();
            var got = json.GetProperty("results").EnumerateArray().Select(r => (Id: r.GetProperty("id").GetInt32(), Score: r.GetProperty("score").GetSingle())).ToArray();
            Assert.All(got, g => Assert.Contains(g.Id, candidates));
            Assert.All(got, g => Assert.Equal(expected[g.Id], g.Score, 1e-5f));
            Assert.Equal(candidates.OrderByDescending(i => expected[i]).ThenBy(i => i).Take(5), got.Select(g => g.Id));
        }
    }

    [Fact]
    public async Task Should_NameUnknownWords()
    {
        await using var host = await TestHost.StartAsync(Service());
        var json = await Json(await host.Client.GetAsync("/api/search?q=a%20dog%20near%20the%20zxqvbn", Token), HttpStatusCode.OK);
        Assert.Equal(["zxqvbn"], json.GetProperty("unknownWords").EnumerateArray().Select(w => w.GetString()));
        var token = json.GetProperty("tokens").EnumerateArray().Last();
        Assert.False(token.GetProperty("known").GetBoolean());
        Assert.Equal(3, token.GetProperty("id").GetInt32());
    }

    [Theory]
    [InlineData("/api/search", "empty")]
    [InlineData("/api/search?q=%20%20", "empty")]
    [InlineData("/api/search?q=dog&k=0", "k must be")]
    [InlineData("/api/search?q=dog&k=101", "k must be")]
    [InlineData("/api/search?q=dog&k=ten", "k must be")]
    [InlineData("/api/search?q=dog&k=-3", "k must be")]
    [InlineData("/api/search?q=dog&mode=fast", "mode must be")]
    [InlineData("/api/explain?q=dog", "id")]
    [InlineData("/api/explain?id=3", "empty")]
    [InlineData("/api/explain?q=dog&id=abc", "whole number")]
    [InlineData("/api/items/abc", "whole number")]
    [InlineData("/api/items/..%2F..%2F..%2Fetc%2Fpasswd/thumbnail", "whole number")]
    [InlineData("/api/items/-1/thumbnail", "whole number")]
    [InlineData("/api/items/99999999999/thumbnail", "whole number")]
    public async Task Should_Answer400_ToBadParameters(string url, string words)
    {
        await using var host = await TestHost.StartAsync(Service());
        await AssertError(await host.Client.GetAsync(url, Token), HttpStatusCode.BadRequest, words);
    }

    [Fact]
    public async Task Should_RefuseQueriesOverTheLengthLimit()
    {
        await using var host = await TestHost.StartAsync(Service(new ServeOptions { MaxQueryLength = 20 }));
        await AssertError(await host.Client.GetAsync("/api/search?q=" + new string('a', 21), Token), HttpStatusCode.BadRequest, "limit is 20");
        await Json(await host.Client.GetAsync("/api/search?q=" + new string('a', 20), Token), HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("/api/items/125")]
    [InlineData("/api/items/125/thumbnail")]
    [InlineData("/api/explain?q=dog&id=125")]
    public async Task Should_Answer404_ToUnknownIds(string url)
    {
        await using var host = await TestHost.StartAsync(Service());
        await AssertError(await host.Client.GetAsync(url, Token), HttpStatusCode.NotFound, "no gallery item 125");
    }

    [Fact]
    public async Task Should_ServeAnItemAndItsImageFile()
    {
        await using var host = await TestHost.StartAsync(Service());
        var names = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_ids.txt"));
        var captions = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_caps.txt"));
        var json = await Json(await host.Client.GetAsync("/api/items/7", Token), HttpStatusCode.OK);
        Assert.Equal(names[7], json.GetProperty("name").GetString());
        Assert.Equal(captions.Skip(35).Take(5).Select(c => c.Trim()), json.GetProperty("captions").EnumerateArray().Select(c => c.GetString()!.Trim()));
        var image = await host.Client.GetAsync("/api/items/7/thumbnail", Token);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/jpeg", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(File.ReadAllBytes(Path.Combine(ServeFixture.ImagesDirectory, names[7])), await image.Content.ReadAsByteArrayAsync(Token));
    }

    [Fact]
    public async Task Should_ServeImageFiles_OfAGalleryBuiltWithRelativePaths()
    {
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, ServeFixture.ImagesDirectory);
        Assert.False(Path.IsPathRooted(relative));
        using var gallery = Gallery.Open(fixture.BuildIndex(fixture.CheckpointPath, "dev-relative.index", "dev", relative, captions: false), cancellationToken: Token);
        await using var host = await TestHost.StartAsync(Service(gallery: gallery));
        var image = await host.Client.GetAsync("/api/items/2/thumbnail", Token);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        var names = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "dev_ids.txt"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(ServeFixture.ImagesDirectory, names[2])), await image.Content.ReadAsByteArrayAsync(Token));
    }

    [Fact]
    public async Task Should_Answer404_ForAnItemWithoutImageFile()
    {
        using var gallery = Gallery.Open(fixture.BuildIndex(fixture.CheckpointPath, "dev-no-images.index", "dev", imageRoot: null, captions: false), cancellationToken: Token);
        await using var host = await TestHost.StartAsync(Service(gallery: gallery));
        await AssertError(await host.Client.GetAsync("/api/items/0/thumbnail", Token), HttpStatusCode.NotFound, "no image file");
        var item = await Json(await host.Client.GetAsync("/api/items/0", Token), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, item.GetProperty("thumbnail").ValueKind);
    }

    [Fact]
    public async Task Should_ExplainScanScores_WithAttentionRowsThatSumToOne_AndTheSearchScore()
    {
        await using var host = await TestHost.StartAsync(Service());
        const string query = "a man rides a bike";
        var json = await Json(await host.Client.GetAsync($"/api/explain?q={Uri.EscapeDataString(query)}&id=11", Token), HttpStatusCode.OK);
        Assert.Equal("word_region_attention", json.GetProperty("kind").GetString());
        Assert.Equal(6, json.GetProperty("grid").GetInt32());
        Assert.Equal(36, json.GetProperty("regions").GetInt32());
        Assert.Equal(["<start>", "a", "man", "rides", "a", "bike", "<end>"], json.GetProperty("words").EnumerateArray().Select(w => w.GetString()));
        var rows = json.GetProperty("weights").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        Assert.Equal(7, rows.Length);
        Assert.All(rows, r => { Assert.Equal(36, r.Length); Assert.Equal(1f, r.Sum(), 1e-4f); Assert.All(r, v => Assert.InRange(v, 0f, 1f)); });
        Assert.Equal(HandleScores(query)[11], json.GetProperty("score").GetSingle(), 1e-4f);
        Assert.Equal(7, json.GetProperty("relevance").GetArrayLength());
        Assert.Contains("t2i", json.GetProperty("meaning").GetString());

        // The same attention as the model computes from the image's raw features (float32 regions): the index's float16
        // rows move it by little.
        using var data = PrecompDataset.Open(ServeFixture.DataDirectory, "test", fixture.Scan.Vocabulary, cancellationToken: Token);
        int[] tokens = [.. fixture.Scan.Vocabulary.Encode(query)];
        var reference = fixture.Scan.Explain(data.ImageFeatures(11), 36, 512, tokens)!;
        for (int w = 0; w < 7; w++)
            for (int r = 0; r < 36; r++) Assert.Equal(reference.Weights[w * 36 + r], rows[w][r], 5e-3f);
        Assert.Equal(reference.Score, json.GetProperty("score").GetSingle(), 3e-3f);
    }

    [Fact]
    public async Task Should_ExplainVseScores_AsOneTermForTheWholeImage_SinceTheIndexKeepsOnlyThePooledVector()
    {
        string checkpoint = fixture.VseCheckpoint();
        using var gallery = Gallery.Open(fixture.BuildIndex(checkpoint, "vse.index", "test", ServeFixture.ImagesDirectory, captions: false), cancellationToken: Token);
        Assert.True(gallery.Index.Metadata.Direct); // one unit vector per image: no row sets in the file
        var vse = gallery.Model;
        await using var host = await TestHost.StartAsync(Service(new ServeOptions { MaxK = 200 }, gallery: gallery));
        const string query = "a dog jumps over a log";
        var json = await Json(await host.Client.GetAsync($"/api/explain?q={Uri.EscapeDataString(query)}&id=4", Token), HttpStatusCode.OK);
        Assert.Equal("region_contributions", json.GetProperty("kind").GetString());
        var row = Assert.Single(json.GetProperty("weights").EnumerateArray()).EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(1, json.GetProperty("regions").GetInt32());
        // The expected score: the model's cosine of the image encoded from its precomp features and the caption.
        using var data = PrecompDataset.Open(ServeFixture.DataDirectory, "test", vse.Vocabulary, cancellationToken: Token);
        var image = vse.EncodeImages(data, 4, 1, cancellationToken: Token);
        var caption = vse.EncodeText([query]);
        var s = new float[1];
        vse.ScoreBlock(image, 0, 1, caption, 0, 1, s, 1);
        Assert.Equal(s[0], Assert.Single(row), 1e-5f);
        Assert.Equal(s[0], json.GetProperty("score").GetSingle(), 1e-5f);
        Assert.Contains("does not store", json.GetProperty("meaning").GetString());
        var search = await Json(await host.Client.GetAsync($"/api/search?q={Uri.EscapeDataString(query)}&k=125", Token), HttpStatusCode.OK);
        Assert.Equal(s[0], search.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("id").GetInt32() == 4).GetProperty("score").GetSingle(), 1e-5f);
        var twoStage = await Json(await host.Client.GetAsync($"/api/search?q={Uri.EscapeDataString(query)}&k=125&mode=two-stage", Token), HttpStatusCode.OK);
        Assert.Equal(s[0], twoStage.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("id").GetInt32() == 4).GetProperty("score").GetSingle(), 1e-5f);
    }

    [Fact]
    public async Task Should_ExplainImramScores_WithTheWordsAttentionFromTheIndexsRegions()
    {
        string checkpoint = fixture.SaveCheckpoint(new CrossModal.Models.Imram.ImramModel(new CrossModal.Models.Imram.ImramConfig
            { ImgDim = 512, EmbedSize = 32, WordDim = 16, VocabSize = fixture.Vocabulary.Count, IterationStep = 3 }, new CrossModal.Tensors.Rng(9)), "imram.safetensors");
        using var gallery = Gallery.Open(fixture.BuildIndex(checkpoint, "imram.index", "test", ServeFixture.ImagesDirectory, captions: false), cancellationToken: Token);
        await using var host = await TestHost.StartAsync(Service(new ServeOptions { MaxK = 200 }, gallery: gallery));
        const string query = "a girl in a pink dress";
        var json = await Json(await host.Client.GetAsync($"/api/explain?q={Uri.EscapeDataString(query)}&id=5", Token), HttpStatusCode.OK);
        Assert.Equal("word_region_attention", json.GetProperty("kind").GetString());
        var rows = json.GetProperty("weights").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        Assert.Equal(8, rows.Length); // <start>, 6 words, <end>
        Assert.All(rows, r => { Assert.Equal(36, r.Length); Assert.Equal(1f, r.Sum(), 1e-4f); });
        Assert.Contains("full_IMRAM", json.GetProperty("meaning").GetString());
        var search = await Json(await host.Client.GetAsync($"/api/search?q={Uri.EscapeDataString(query)}&k=125", Token), HttpStatusCode.OK);
        Assert.Equal(search.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("id").GetInt32() == 5).GetProperty("score").GetSingle(),
            json.GetProperty("score").GetSingle(), 1e-4f);
    }

    private static MultipartFormDataContent Upload(byte[] bytes, string field = "image", string type = "image/jpeg")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return new MultipartFormDataContent { { content, field, "photo.jpg" } };
    }

    [Fact]
    public async Task Should_FindCaptionsForAnUploadedImage_FromTheSameFeaturesAsTheGallery()
    {
        await using var host = await TestHost.StartAsync(Service());
        var names = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_ids.txt"));
        var bytes = File.ReadAllBytes(Path.Combine(ServeFixture.ImagesDirectory, names[3]));
        var json = await Json(await host.Client.PostAsync("/api/search/image?k=8", Upload(bytes), Token), HttpStatusCode.OK);

        // The upload's features come from our CNN; the gallery's were made by a numpy port of the same network. Both
        // must agree (README of the data: max |diff| 1.2e-4 for the reference output), so scoring the upload must
        // rank captions like scoring the gallery's own features of that image.
        var features = fixture.Encoder.Encode(bytes, 6, 512, Token);
        using var data = PrecompDataset.Open(ServeFixture.DataDirectory, "test", fixture.Scan.Vocabulary, cancellationToken: Token);
        var reference = data.ImageFeatures(3);
        float maxDiff = 0, maxValue = 0;
        for (int i = 0; i < features.Length; i++) { maxDiff = Math.Max(maxDiff, Math.Abs(features[i] - reference[i])); maxValue = Math.Max(maxValue, Math.Abs(reference[i])); }
        Assert.True(maxDiff <= 2e-3f * maxValue, $"upload features differ from the precomp features by {maxDiff} (max value {maxValue})");

        var image = fixture.Scan.EncodeImages(reference.ToArray(), 1, 36, 512);
        var texts = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_caps.txt")).Where(t => t.Trim().Length > 0).ToArray();
        var captions = RoundedToHalf(fixture.Scan.EncodeText(texts));
        var expected = new float[captions.Count];
        fixture.Scan.ScoreBlock(image, 0, 1, captions, 0, captions.Count, expected, captions.Count);
        var results = json.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(8, results.Length);
        var top = Enumerable.Range(0, expected.Length).OrderByDescending(c => expected[c]).Take(8).ToArray();
        Assert.Equal(top, results.Select(r => r.GetProperty("captionId").GetInt32()));
        foreach (var r in results)
        {
            int c = r.GetProperty("captionId").GetInt32();
            Assert.Equal(expected[c], r.GetProperty("score").GetSingle(), 2e-3f);
            Assert.Equal(texts[c].Trim(), r.GetProperty("text").GetString()!.Trim());
            Assert.Equal(c / 5, r.GetProperty("imageId").GetInt32());
        }
        var size = ImageSize(bytes);
        Assert.Equal(size.Width, json.GetProperty("width").GetInt32());
        Assert.Equal(size.Height, json.GetProperty("height").GetInt32());
    }

    [Fact]
    public async Task Should_AcceptAPngUpload()
    {
        await using var host = await TestHost.StartAsync(Service());
        var png = File.ReadAllBytes(TestData.Path("squeezenet", "kitten_224.png"));
        var json = await Json(await host.Client.PostAsync("/api/search/image?k=3", Upload(png, type: "image/png"), Token), HttpStatusCode.OK);
        Assert.Equal(ImageSize(png), (json.GetProperty("width").GetInt32(), json.GetProperty("height").GetInt32()));
        Assert.Equal(3, json.GetProperty("results").GetArrayLength());
    }

    /// <summary>The decoder's idea of the size (independent of the header reader the server uses).</summary>
    private static (int Width, int Height) ImageSize(byte[] bytes)
    {
        var image = CrossModal.Vision.Imaging.ImageDecoder.Decode(bytes, "test");
        return (image.Width, image.Height);
    }

    [Fact]
    public async Task Should_RefuseBadUploads_WithOneClearErrorEach()
    {
        await using var host = await TestHost.StartAsync(Service(new ServeOptions { MaxUploadBytes = 200_000, MaxPixels = 1_000_000 }));
        var names = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_ids.txt"));
        var jpeg = File.ReadAllBytes(Path.Combine(ServeFixture.ImagesDirectory, names[0]));

        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(Encoding.UTF8.GetBytes("just some text, not a picture")), Token),
            HttpStatusCode.UnsupportedMediaType, "not a JPEG or PNG");
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload([]), Token), HttpStatusCode.BadRequest, "empty");
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(jpeg[..Math.Min(jpeg.Length, 120)]), Token), HttpStatusCode.BadRequest, "");
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(jpeg[..(jpeg.Length / 2)]), Token), HttpStatusCode.BadRequest, "uploaded image");
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(jpeg, field: "photo"), Token), HttpStatusCode.BadRequest, "field named 'image'");
        await AssertError(await host.Client.PostAsync("/api/search/image", new StringContent("{\"image\": 1}", Encoding.UTF8, "application/json"), Token),
            HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(new byte[250_000]), Token), HttpStatusCode.RequestEntityTooLarge, "limit");
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(Png(5000, 4000), type: "image/png"), Token), HttpStatusCode.RequestEntityTooLarge, "5000 x 4000");
        await AssertError(await host.Client.PostAsync("/api/search/image?k=0", Upload(jpeg), Token), HttpStatusCode.BadRequest, "k must be");
        await AssertError(await host.Client.GetAsync("/api/search/image", Token), HttpStatusCode.MethodNotAllowed, "not allowed");
    }

    /// <summary>A PNG signature and IHDR claiming <paramref name="width"/> x <paramref name="height"/>, with no pixel data.</summary>
    private static byte[] Png(int width, int height)
    {
        var b = new byte[33];
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        signature.CopyTo(b, 0);
        b[11] = 13;
        "IHDR"u8.CopyTo(b.AsSpan(12));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(20), height);
        b[24] = 8; b[25] = 2;
        return b;
    }

    [Fact]
    public async Task Should_RefuseARequestBodyOverTheLimit()
    {
        await using var host = await TestHost.StartAsync(Service(new ServeOptions { MaxRequestBodyBytes = 1000 }));
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(new byte[5000]), Token), HttpStatusCode.RequestEntityTooLarge, "limit is 1000");
    }

    [Fact]
    public async Task Should_Answer501_ForImageSearchWithoutACnn()
    {
        await using var host = await TestHost.StartAsync(Service(withEncoder: false));
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload([0xFF, 0xD8, 0xFF, 0xE0]), Token), HttpStatusCode.NotImplemented, "--onnx");
    }

    [Fact]
    public async Task Should_Answer503_WhileTheCaptionsAreStillBeingEncoded()
    {
        var g = fixture.Gallery;
        var pending = new TaskCompletionSource<EmbeddingSet>();
        using var gallery = new Gallery(g.Index, g.Model, ownsIndex: false, "pending", pending.Task);
        await using var host = await TestHost.StartAsync(Service(gallery: gallery));
        var names = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_ids.txt"));
        var jpeg = File.ReadAllBytes(Path.Combine(ServeFixture.ImagesDirectory, names[0]));
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(jpeg), Token), HttpStatusCode.ServiceUnavailable, "still being loaded");
        var health = await Json(await host.Client.GetAsync("/api/health", Token), HttpStatusCode.OK);
        Assert.False(health.GetProperty("captionsReady").GetBoolean());
    }

    [Fact]
    public async Task Should_Answer503_WhenARequestOutlivesItsTimeout()
    {
        await using var host = await TestHost.StartAsync(Service(new ServeOptions { Time = new ExpiredClock() }));
        await AssertError(await host.Client.GetAsync("/api/search?q=a%20dog", Token), HttpStatusCode.ServiceUnavailable, "limit of 20 s");
        await AssertError(await host.Client.GetAsync("/api/search?q=a%20dog&mode=two-stage", Token), HttpStatusCode.ServiceUnavailable, "limit of 20 s");
        var names = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_ids.txt"));
        var jpeg = File.ReadAllBytes(Path.Combine(ServeFixture.ImagesDirectory, names[0]));
        await AssertError(await host.Client.PostAsync("/api/search/image", Upload(jpeg), Token), HttpStatusCode.ServiceUnavailable, "limit of 20 s");
    }

    [Theory]
    [InlineData("GET", "/api/nothing-here", HttpStatusCode.NotFound)]
    [InlineData("GET", "/nothing-here", HttpStatusCode.NotFound)]
    [InlineData("GET", "/static/..%2F..%2Fappsettings.json", HttpStatusCode.NotFound)]
    [InlineData("GET", "/static/missing.js", HttpStatusCode.NotFound)]
    [InlineData("POST", "/api/health", HttpStatusCode.MethodNotAllowed)]
    [InlineData("DELETE", "/api/items/3", HttpStatusCode.MethodNotAllowed)]
    public async Task Should_AnswerJson_ToUnknownRoutesAndMethods(string method, string url, HttpStatusCode status)
    {
        await using var host = await TestHost.StartAsync(Service());
        await AssertError(await host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url), Token), status, "");
    }

    [Fact]
    public async Task Should_DescribeEveryEndpoint_InTheOpenApiDocument()
    {
        await using var host = await TestHost.StartAsync(Service());
        var json = await Json(await host.Client.GetAsync("/openapi/v1.json", Token), HttpStatusCode.OK);
        Assert.StartsWith("3.", json.GetProperty("openapi").GetString());
        var paths = json.GetProperty("paths");
        Assert.True(paths.GetProperty("/api/search").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/search/image").TryGetProperty("post", out var post));
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        foreach (var p in new[] { "/api/health", "/api/items/{id}", "/api/items/{id}/thumbnail", "/api/explain" })
            Assert.True(paths.GetProperty(p).TryGetProperty("get", out _), p);
        Assert.True(json.GetProperty("components").GetProperty("schemas").TryGetProperty("ErrorResponse", out _));
    }

    [Fact]
    public async Task Should_ServeThePage_WithoutABuildStep()
    {
        await using var host = await TestHost.StartAsync(Service());
        var page = await host.Client.GetAsync("/", Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync(Token);
        Assert.Contains("id=\"search-form\"", html);
        Assert.Contains("name=\"viewport\"", html);
        foreach (var asset in new[] { "/static/app.js", "/static/app.css" })
        {
            var r = await host.Client.GetAsync(asset, Token);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.True(r.Headers.Contains("Content-Security-Policy") || page.Headers.Contains("Content-Security-Policy"));
        }
    }

    [Fact]
    public async Task Should_GiveConcurrentRequestsTheAnswersOfSequentialOnes()
    {
        await using var host = await TestHost.StartAsync(Service());
        var queries = File.ReadAllLines(Path.Combine(ServeFixture.DataDirectory, "test_caps.txt")).Take(24).ToArray();
        async Task<string> Ask(string q, string mode) =>
            (await Json(await host.Client.GetAsync($"/api/search?q={Uri.EscapeDataString(q)}&k=5&mode={mode}", Token), HttpStatusCode.OK))
                .GetProperty("results").GetRawText();
        var sequential = new List<string>();
        foreach (var q in queries) { sequential.Add(await Ask(q, "full")); sequential.Add(await Ask(q, "two-stage")); }
        var concurrent = await Task.WhenAll(queries.SelectMany(q => new[] { Ask(q, "full"), Ask(q, "two-stage") }));
        Assert.Equal(sequential, concurrent);
    }
}
