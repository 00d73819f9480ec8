using System.Text.Json.Serialization;

namespace CrossModal.Models;

/// <summary>
/// The settings every instance-level family shares (VSE++, SCAN, IMRAM, NAAF, VSRN): an image encoder of
/// <see cref="ImgDim"/>-wide features into <see cref="EmbedSize"/>, a word embedding of <see cref="VocabSize"/> x
/// <see cref="WordDim"/> and a GRU of <see cref="NumLayers"/>. Names and defaults are the originals' flags.
/// </summary>
public abstract record MatchingConfig : ModelConfig
{
    /// <summary>Image feature size (2048 for BUTD regions, 4096 for VGG fc7, 512 for the f8k SqueezeNet features); taken from the data.</summary>
    public int ImgDim { get; init; } = 2048;

    /// <summary>Joint embedding size.</summary>
    [Flag("joint embedding size")]
    public int EmbedSize { get; init; } = 1024;

    /// <summary>Word embedding size.</summary>
    [Flag("word embedding size")]
    public int WordDim { get; init; } = 300;

    /// <summary>Vocabulary size (rows of the word embedding); taken from the vocabulary.</summary>
    public int VocabSize { get; init; }

    /// <summary>GRU layers.</summary>
    [Flag("GRU layers of the text encoder")]
    public int NumLayers { get; init; } = 1;

    /// <inheritdoc/>
    public override ModelConfig ForData(DataShape shape) => this with { ImgDim = shape.ImageDim, VocabSize = shape.VocabSize };

    /// <inheritdoc/>
    public override void Validate()
    {
        Need(ImgDim > 0 && EmbedSize > 0 && WordDim > 0, "img_dim, embed_size and word_dim must be positive.");
        Need(VocabSize > 4, $"vocab_size {VocabSize} is too small (the four special tokens alone need 4).");
        Need(NumLayers >= 1, "num_layers must be at least 1.");
    }
}
