using System.Text;
using CrossModal.Models.Objectives;
using CrossModal.Models.Vse;
using CrossModal.Tensors.IO;
using CrossModal.Tests;
using CrossModal.Text;

namespace CrossModal.Training.Tests;

/// <summary>
/// Bad numbers and empty data are refused by <see cref="Trainer.Create"/> with one error naming the file and the
/// row, before any training starts: nothing is written to the output folder.
/// </summary>
public sealed class BadDataTests
{
    [Theory]
    [InlineData("nan-train", "train_ims.npy", "image row 4 contains NaN at dimension 2")]
    [InlineData("inf-dev", "dev_ims.npy", "image row 1 contains +Inf at dimension 0")]
    [InlineData("unknown-words", "train_caps.txt", "line 7 (\"zebra giraffe okapi\") has no word the vocabulary knows (every token is <unk>)")]
    [InlineData("empty-dev-captions", "dev_caps.txt", "the caption file is empty")]
    [InlineData("empty-dev-features", "dev_ims.npy", "the feature file is empty")]
    public void Should_NameTheFileAndRow_BeforeAnyTraining(string damage, string file, string message)
    {
        using var data = new TinyPrecomp();
        string path = Path.Combine(data.Directory, file);
        switch (damage)
        {
            case "nan-train" or "inf-dev":
            {
                var f = Npy.ReadFloat32(path);
                f.Data[(damage == "nan-train" ? 4 : 1) * 8 + (damage == "nan-train" ? 2 : 0)] = damage == "nan-train" ? float.NaN : float.PositiveInfinity;
                Npy.Write(path, f);
                break;
            }
            case "unknown-words":
            {
                var lines = File.ReadAllLines(path);
                lines[6] = "zebra giraffe okapi";
                File.WriteAllLines(path, lines, new UTF8Encoding(false));
                break;
            }
            case "empty-dev-captions": File.WriteAllText(path, ""); break;
            default: Npy.Write(path, Array.Empty<float>(), [0, 8]); break;
        }
        var options = new TrainOptions
        {
            DataPath = data.Directory, OutputPath = Path.Combine(data.Directory, "out"),
            Recipe = new TrainingRecipe { BatchSize = 16, NumEpochs = 1 },
        };
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Create(options, new VseConfig { EmbedSize = 8, WordDim = 4 }, Vocabulary.Load(data.VocabPath)).Dispose());
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(message, e.Message);
        Assert.False(Directory.Exists(options.OutputPath));
    }
}
