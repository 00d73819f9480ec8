using System.Text.Json;
using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Tests.Support;

namespace CrossModal.Checkpoints.Tests;

/// <summary>
/// Every checkpoint the PyTorch fixture script saved (zip, legacy, Python-2-style legacy) loads with the names,
/// shapes, dtypes, options and bookkeeping values PyTorch reported for it in manifest.json.
/// </summary>
public sealed class TorchCheckpointFixtureTests
{
    public static TheoryData<string> Files => CheckpointManifest.CheckpointFiles();

    [Theory]
    [MemberData(nameof(Files))]
    public void Should_ReadTopLevelEntriesAsSaved(string file)
    {
        var entry = CheckpointManifest.Checkpoint(file);
        var ckpt = Ckpt.Load(entry.Path);
        Assert.Equal(entry.Format == "zip" ? TorchCheckpointFormat.Zip : TorchCheckpointFormat.Legacy, ckpt.Format);
        Assert.Equal(entry.TopKeys, ckpt.Keys);
        Assert.Equal((int)entry.Epoch, ckpt.Epoch);
        Assert.Equal(entry.BestRsum, ckpt.BestRsum);
        Assert.Equal(entry.Eiters, ckpt.Eiters);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Should_ReadOptionsWithTheirPythonTypes(string file)
    {
        var entry = CheckpointManifest.Checkpoint(file);
        var opt = Ckpt.Load(entry.Path).Options;
        var names = entry.Opt.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(names, opt.Keys.ToList());
        foreach (var p in entry.Opt.EnumerateObject())
        {
            string type = entry.OptTypes.GetProperty(p.Name).GetString()!;
            switch (type)
            {
                case "str": Assert.Equal(p.Value.GetString(), opt.GetString(p.Name)); break;
                case "int": Assert.Equal(p.Value.GetInt32(), opt.GetInt(p.Name)); break;
                case "float":
                    Assert.Equal(p.Value.GetDouble(), opt.GetDouble(p.Name));
                    Assert.IsType<double>(opt[p.Name]);
                    break;
                case "bool": Assert.Equal(p.Value.GetBoolean(), opt.GetBool(p.Name)); break;
                case "NoneType": Assert.Null(opt[p.Name]); break;
                default: throw new InvalidOperationException($"option type {type}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Should_ReadStateDictNamesShapesAndDTypesInOrder(string file)
    {
        var entry = CheckpointManifest.Checkpoint(file);
        var dicts = Ckpt.Load(entry.Path).ModelStateDicts();
        var expected = entry.StateDicts;
        Assert.Equal(expected.Count, dicts.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Select(e => e.Name).ToList(), dicts[i].Names);
            foreach (var (name, shape, dtype) in expected[i])
            {
                Assert.Equal(shape, dicts[i][name].Shape);
                Assert.Equal(dtype, dicts[i].DTypes[name]);
            }
        }
    }

    [Fact]
    public void Should_GiveIdenticalTensorsInEveryFormatOfTheSameModel()
    {
        // Three independent writers (torch zip, torch legacy, the hand-emitted Python 2 pickle) of one model.
        var zip = Ckpt.Load(CheckpointManifest.PathOf("scan_t2i_lse/scan_t2i_lse.zip.pth.tar")).ModelStateDicts();
        foreach (var other in new[] { "scan_t2i_lse/scan_t2i_lse.legacy.pth.tar", "scan_t2i_lse/scan_t2i_lse.py2legacy.pth.tar" })
        {
            var dicts = Ckpt.Load(CheckpointManifest.PathOf(other)).ModelStateDicts();
            for (int i = 0; i < 2; i++)
                foreach (var name in zip[i].Names)
                    Assert.Equal(zip[i][name].ToArray(), dicts[i][name].ToArray());
        }
    }

    [Fact]
    public void Should_DeconstructTheModelListIntoImageAndTextStateDicts()
    {
        var ckpt = Ckpt.Load(CheckpointFixture.Get("scan_i2t_lse").LegacyPath);
        var (img, txt) = ckpt.ModelStateDicts();
        Assert.Equal(new[] { "fc.weight", "fc.bias" }, img.Names);
        Assert.Equal(new[] { 32, 512 }, img.Get("fc.weight", 32, 512).Shape);
        Assert.Contains("rnn.weight_hh_l0_reverse", txt.Names);
        var e = Assert.Throws<InvalidDataException>(() => img.Get("fc.weight", 1024, 2048));
        Assert.Contains("'fc.weight' has shape [32, 512], expected [1024, 2048]", e.Message);
        var missing = Assert.Throws<InvalidDataException>(() => txt.Get("embed.weights"));
        Assert.Contains("no entry 'embed.weights'", missing.Message);
        Assert.Contains("scan_i2t_lse.legacy.pth.tar: model[1]", missing.Message);
    }

    [Fact]
    public void Should_ReadTheNumpyBestRsumOfAPython2Checkpoint()
    {
        // The original code's best_rsum is numpy.float64, pickled by Python 2 as scalar(dtype('f8'), <byte string>).
        var entry = CheckpointManifest.Checkpoint("scan_t2i_lse/scan_t2i_lse.py2legacy.pth.tar");
        var root = Assert.IsType<PyDict>(Ckpt.Load(entry.Path).Root);
        Assert.Equal(entry.BestRsum, Assert.IsType<double>(root["best_rsum"]));
    }

    [Fact]
    public void Should_ConvertOptionsToJsonThatKeepsIntsFloatsAndBools()
    {
        var opt = Ckpt.Load(CheckpointFixture.Get("scan_i2t_lse").ZipPath).Options;
        using var doc = JsonDocument.Parse(opt.ToJson());
        Assert.Equal("5.0", doc.RootElement.GetProperty("lambda_lse").GetRawText());
        Assert.Equal("32", doc.RootElement.GetProperty("embed_size").GetRawText());
        Assert.Equal(JsonValueKind.True, doc.RootElement.GetProperty("bi_gru").ValueKind);
        var back = CheckpointOptions.FromJson(opt.ToJson(), "json");
        Assert.Equal(opt.Keys, back.Keys);
        foreach (var name in opt.Keys) Assert.True(Equals(opt[name], back[name]), $"{name}: {opt[name]} ({opt[name]?.GetType().Name}) vs {back[name]} ({back[name]?.GetType().Name})");
    }

    [Fact]
    public void Should_NameTheOptionAndTypeWhenAnOptionIsMissingOrWrong()
    {
        var opt = Ckpt.Load(CheckpointFixture.Get("vsepp").ZipPath).Options;
        var missing = Assert.Throws<InvalidDataException>(() => opt.GetString("cross_attn"));
        Assert.Contains("vsepp.zip.pth.tar: opt: option 'cross_attn' is missing", missing.Message);
        Assert.False(opt.GetBool("bi_gru", false));
        var wrong = Assert.Throws<InvalidDataException>(() => opt.GetInt("measure"));
        Assert.Contains("option 'measure' is the string 'cosine', expected an integer", wrong.Message);
        Assert.Equal(0.2, opt.GetDouble("margin"));
        Assert.Equal(32.0, opt.GetDouble("embed_size"));
    }
}
