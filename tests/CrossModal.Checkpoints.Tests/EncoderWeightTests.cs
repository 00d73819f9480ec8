using CrossModal.Checkpoints.Tests.Support;
using CrossModal.Tensors;
using CrossModal.Tensors.Nn;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// The weights read from each checkpoint are PyTorch's: fed into the engine's own Linear, Embedding and GRU
/// (whose PyTorch parity is tested in CrossModal.Tensors.Tests), they reproduce the encoder outputs PyTorch
/// recorded on real f8k features and captions; for VSE++ the similarity matrix follows within 1e-4.
/// (SCAN's cross-attention scoring belongs to the SCAN model and is checked there against the same sims.npy.)
/// </summary>
public sealed class EncoderWeightTests
{
    public static TheoryData<string, string> Models
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var name in CheckpointFixture.Names)
                foreach (var format in new[] { "zip", "legacy" }) data.Add(name, format);
            data.Add("scan_t2i_lse", "py2legacy");
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Should_ReproducePyTorchsImageEmbeddings(string name, string format)
    {
        var fx = CheckpointFixture.Get(name);
        var ckpt = Ckpt.Load(CheckpointManifest.PathOf($"{name}/{name}.{format}.pth.tar"));
        var opt = ckpt.Options;
        var (img, _) = ckpt.ModelStateDicts();
        var fc = new Linear(opt.GetInt("img_dim"), opt.GetInt("embed_size"), new Rng(1));
        fc.LoadStateDict(img, "fc.");
        var images = fx.Images();
        var x = images.Reshape(-1, images.Dim(-1));
        var y = Ops.Linear(x, fc.Weight, fc.Bias).ToArray();
        int e = opt.GetInt("embed_size");
        bool scan = fx.Method == "scan";
        if (!opt.GetBool("no_imgnorm")) NormalizeRows(y, e, scan ? 1e-8 : 0);
        if (opt.GetBool("use_abs", false)) Abs(y);
        AssertClose(fx.ImageEmbeddings.ToArray(), y, 1e-5, $"{name} image embeddings");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Should_ReproducePyTorchsCaptionEmbeddings(string name, string format)
    {
        var fx = CheckpointFixture.Get(name);
        var ckpt = Ckpt.Load(CheckpointManifest.PathOf($"{name}/{name}.{format}.pth.tar"));
        var expected = fx.CaptionEmbeddings;
        var got = EncodeCaptions(ckpt, fx.Method);
        if (fx.Method == "vsepp")
        {
            AssertClose(expected.ToArray(), got, 1e-5, $"{name} caption embeddings");
            return;
        }
        // SCAN: [30, L, E]; positions beyond each caption's length are zero in PyTorch's padded output.
        int e = ckpt.Options.GetInt("embed_size"), lmax = expected.Dim(1);
        var lengths = CheckpointFixture.CaptionLengths;
        var want = expected.ToArray();
        for (int c = 0; c < lengths.Length; c++)
            for (int w = 0; w < lmax; w++)
                for (int k = 0; k < e; k++)
                {
                    double g = w < lengths[c] ? got[(c * lmax + w) * e + k] : 0;
                    Assert.True(Math.Abs(want[(c * lmax + w) * e + k] - g) <= 1e-5, $"{name}: caption {c} word {w} dim {k}: {want[(c * lmax + w) * e + k]} vs {g}");
                }
    }

    [Theory]
    [InlineData("vsepp")]
    [InlineData("vsepp_order")]
    [InlineData("vse0")]
    public void Should_ReproduceTheVseSimilarityMatrixWithin1e4(string name)
    {
        var fx = CheckpointFixture.Get(name);
        foreach (var path in new[] { fx.ZipPath, fx.LegacyPath })
        {
            var ckpt = Ckpt.Load(path);
            var opt = ckpt.Options;
            var (img, _) = ckpt.ModelStateDicts();
            int e = opt.GetInt("embed_size");
            var fc = new Linear(opt.GetInt("img_dim"), e, new Rng(1));
            fc.LoadStateDict(img, "fc.");
            var im = Ops.Linear(fx.Images(), fc.Weight, fc.Bias).ToArray();
            if (!opt.GetBool("no_imgnorm")) NormalizeRows(im, e, 0);
            if (opt.GetBool("use_abs")) Abs(im);
            var cap = EncodeCaptions(ckpt, "vsepp");
            var (want, shape) = fx.Sims;
            int nImg = shape[0], nCap = shape[1];
            for (int i = 0; i < nImg; i++)
                for (int j = 0; j < nCap; j++)
                {
                    double s = 0;
                    for (int k = 0; k < e; k++)
                    {
                        if (opt.GetString("measure") == "order") s += Math.Pow(Math.Max(0, (double)cap[j * e + k] - im[i * e + k]), 2);
                        else s += (double)im[i * e + k] * cap[j * e + k];
                    }
                    if (opt.GetString("measure") == "order") s = -Math.Sqrt(s);
                    Assert.True(Math.Abs(want[i * nCap + j] - s) <= 1e-4, $"{path}: sims[{i},{j}] = {s}, PyTorch {want[i * nCap + j]}");
                }
        }
    }

    /// <summary>Embedding + GRU from the checkpoint's text state dict; VSE++: last valid state, SCAN: per word (bi-GRU averaged).</summary>
    private static float[] EncodeCaptions(TorchCheckpoint ckpt, string method)
    {
        var opt = ckpt.Options;
        var (_, txt) = ckpt.ModelStateDicts();
        int e = opt.GetInt("embed_size"), wd = opt.GetInt("word_dim");
        bool bi = method == "scan" && opt.GetBool("bi_gru");
        var embed = new Embedding(opt.GetInt("vocab_size"), wd, new Rng(2));
        embed.LoadStateDict(txt, "embed.", strict: false);
        var gru = new Gru(wd, e, new Rng(3), opt.GetInt("num_layers"), bi);
        gru.LoadStateDict(txt, "rnn.");
        var ids = CheckpointFixture.CaptionIds;
        var lengths = CheckpointFixture.CaptionLengths;
        int n = ids.Length, lmax = ids[0].Length;
        var x = embed.Forward(ids.SelectMany(r => r).ToArray(), n, lmax);
        var (output, hidden) = gru.Forward(x, lengths);
        if (method == "vsepp")
        {
            var last = hidden.ToArray()[..(n * e)];
            NormalizeRows(last, e, 0);
            if (opt.GetBool("use_abs")) Abs(last);
            return last;
        }
        var o = output.ToArray();
        var words = new float[n * lmax * e];
        for (int r = 0; r < n * lmax; r++)
            for (int k = 0; k < e; k++)
                words[r * e + k] = bi ? (o[r * 2 * e + k] + o[r * 2 * e + e + k]) / 2 : o[r * e + k];
        if (!opt.GetBool("no_txtnorm")) NormalizeRows(words, e, 1e-8);
        return words;
    }

    private static void NormalizeRows(float[] data, int width, double eps)
    {
        for (int r = 0; r < data.Length / width; r++)
        {
            double norm = 0;
            for (int k = 0; k < width; k++) norm += (double)data[r * width + k] * data[r * width + k];
            double scale = 1 / (Math.Sqrt(norm) + eps);
            for (int k = 0; k < width; k++) data[r * width + k] = (float)(data[r * width + k] * scale);
        }
    }

    private static void Abs(float[] data)
    {
        for (int i = 0; i < data.Length; i++) data[i] = Math.Abs(data[i]);
    }

    private static void AssertClose(float[] expected, float[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: PyTorch {expected[i]}, ours {actual[i]}");
    }
}
