using System.Reflection;
using System.Text.Json.Nodes;
using CrossModal.Models.Attention;
using CrossModal.Models.Objectives;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;

namespace CrossModal.Models.Tests;

/// <summary>The registry's contract: what every family must provide, checked for every registered family.</summary>
public class ModelFamiliesTests
{
    public static TheoryData<string> Families => new(ModelFamilies.All.Select(f => f.Name));

    [Theory]
    [MemberData(nameof(Families))]
    public void Should_RoundTripTheDefaultConfigurationThroughJson(string name)
    {
        var family = ModelFamilies.Get(name);
        var config = family.DefaultConfig;
        Assert.Equal(name, config.Model);
        var json = config.ToJson();
        Assert.StartsWith($"{{\"model\":\"{name}\"", json);
        Assert.Equal(config, ModelConfig.FromJson(json, "test"));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Should_ApplyEveryPreset_ToTheFamilysOwnRecords(string name)
    {
        var family = ModelFamilies.Get(name);
        foreach (var preset in family.Presets)
        {
            Assert.Equal(name, preset.Family);
            var config = preset.Config(family.DefaultConfig);
            Assert.IsType(family.ConfigType, config);
            preset.Recipe(family.DefaultRecipe).Validate();
        }
    }

    [Fact]
    public void Should_NamePresetsAndFamiliesUniquely()
    {
        Assert.Equal(ModelFamilies.All.Count, ModelFamilies.All.Select(f => f.Name).Distinct().Count());
        var presets = ModelFamilies.Presets.Select(p => p.Name).ToList();
        Assert.Equal(presets.Count, presets.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Should_GiveEveryFlagAJsonNameAndACommandLineType(string name)
    {
        var family = ModelFamilies.Get(name);
        foreach (var p in family.ConfigType.GetProperties().Where(p => p.GetCustomAttribute<FlagAttribute>() is not null))
        {
            Assert.Matches("^[a-zA-Z][a-zA-Z0-9_]*$", ConfigJson.NameOf(p));
            Assert.True(p.PropertyType == typeof(bool) || p.PropertyType == typeof(int) || p.PropertyType == typeof(float) || p.PropertyType == typeof(string) || p.PropertyType.IsEnum,
                $"{family.ConfigType.Name}.{p.Name} is a {p.PropertyType.Name}");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Should_BuildATrainableModel_FromTheDefaultsSizedByTheData(string name)
    {
        var family = ModelFamilies.Get(name);
        if (family.Task != RetrievalTask.Instance) return;
        var config = family.DefaultConfig.ForData(new DataShape(ImageDim: 6, Regions: 2, VocabSize: 9));
        var model = family.Create(config, new Rng(1));
        Assert.Same(family, model.Family);
        var objective = family.CreateObjective(model, family.DefaultRecipe);
        Assert.NotEmpty(objective.Optimizers);
        Assert.Equal(objective.Optimizers.Count, objective.Optimizers.Select(o => o.Name).Distinct().Count());
    }

    [Fact]
    public void Should_ReadTheConfigurationsEarlierVersionsWrote()
    {
        // model_config of checkpoints written before the registry: one flat record with every family's fields.
        const string scan = "{\"model\":\"scan\",\"img_dim\":512,\"embed_size\":1024,\"word_dim\":300,\"vocab_size\":3159,\"num_layers\":1,\"no_imgnorm\":false,\"no_txtnorm\":false,\"bi_gru\":true,\"precomp_enc_type\":\"basic\",\"cross_attn\":\"i2t\",\"raw_feature_norm\":\"clipped_l2norm\",\"agg_func\":\"LogSumExp\",\"lambda_softmax\":4,\"lambda_lse\":5}";
        const string vsepp = "{\"model\":\"vsepp\",\"img_dim\":512,\"embed_size\":1024,\"word_dim\":300,\"vocab_size\":3159,\"num_layers\":1,\"no_imgnorm\":true,\"no_txtnorm\":false,\"bi_gru\":false,\"precomp_enc_type\":\"basic\",\"cross_attn\":\"t2i\",\"raw_feature_norm\":\"clipped_l2norm\",\"agg_func\":\"LogSumExp\",\"lambda_softmax\":9,\"lambda_lse\":6}";
        Assert.Equal(new ScanConfig { ImgDim = 512, VocabSize = 3159, CrossAttn = AttentionDirection.ImageToText, LambdaSoftmax = 4, LambdaLse = 5 }, ModelConfig.FromJson(scan, "old"));
        Assert.Equal(new VseConfig { ImgDim = 512, VocabSize = 3159, NoImgNorm = true }, ModelConfig.FromJson(vsepp, "old"));
    }

    [Fact]
    public void Should_RejectAnUnknownModelOrChoice_WithOneMessage()
    {
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson("{\"model\":\"clip\"}", "c.json"));
        Assert.Equal($"c.json: unknown model 'clip' (expected one of {ModelFamilies.NameList}).", e.Message);
        e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson("{\"model\":\"scan\",\"cross_attn\":\"sideways\"}", "c.json"));
        Assert.StartsWith("c.json: the scan configuration is not valid:", e.Message);
        var bad = new JsonObject { ["model"] = "scan", ["vocab_size"] = 3 };
        var a = Assert.Throws<ArgumentException>(() => ModelConfig.FromJson(bad, "x").Family.Create(ModelConfig.FromJson(bad, "x"), new Rng(1)));
        Assert.Contains("vocab_size 3 is too small", a.Message);
    }

    [Fact]
    public void Should_SpellEnumChoicesAsTheOriginalFlags()
    {
        Assert.Equal(["clipped_l2norm", "l2norm", "softmax", "clipped", "no_norm"], ConfigJson.EnumNames(typeof(RawFeatureNorm)));
        Assert.Equal(["t2i", "i2t"], ConfigJson.EnumNames(typeof(AttentionDirection)));
        Assert.Equal(RawFeatureNorm.NoNorm, FlagValues.Parse<RawFeatureNorm>("no_norm", "raw_feature_norm"));
        var e = Assert.Throws<InvalidDataException>(() => FlagValues.Parse<AttentionDirection>("both", "cross_attn"));
        Assert.Equal("option 'cross_attn' is 'both', expected one of t2i, i2t.", e.Message);
    }

    [Fact]
    public void Should_TakeTheRecipeFromTheFamily()
    {
        Assert.True(new VseFamily().DefaultRecipe.MaxViolation);
        var coco = new ScanFamily().Presets.Single(p => p.Name == "scan-i2t-lse-coco");
        var recipe = coco.Recipe(new ScanFamily().DefaultRecipe);
        Assert.Equal((20, 10, 5e-4f, true), (recipe.NumEpochs, recipe.LrUpdate, recipe.LearningRate, recipe.MaxViolation));
        Assert.Equal(20f, ((ScanConfig)coco.Config(new ScanFamily().DefaultConfig)).LambdaLse);
    }
}
