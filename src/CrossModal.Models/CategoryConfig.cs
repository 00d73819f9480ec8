using System.Text.Json.Serialization;

namespace CrossModal.Models;

/// <summary>
/// The settings every category-level family shares (ACMR-style, MASLN): encoders of <see cref="ImgDim"/>-wide image
/// and <see cref="TxtDim"/>-wide text feature vectors into a common code layer of <see cref="EmbedSize"/>, through a
/// hidden layer of <see cref="HiddenSize"/>, and a classifier over the <see cref="NumClasses"/> training classes.
/// The three data sizes are taken from the data (<see cref="ForData"/>).
/// </summary>
public abstract record CategoryConfig : ModelConfig
{
    /// <summary>Image feature width (128 for the Wikipedia SIFT bag of visual words); taken from the data.</summary>
    public int ImgDim { get; init; } = 128;

    /// <summary>Text feature width (10 for Wikipedia's LDA topics, 5,000 for TF-IDF); taken from the data.</summary>
    public int TxtDim { get; init; } = 10;

    /// <summary>Classes the model is trained on (all of them, or the seen ones under the extendable protocol); taken from the data.</summary>
    public int NumClasses { get; init; } = 10;

    /// <summary>Width of the common code layer.</summary>
    [Flag("joint embedding size")]
    public int EmbedSize { get; init; } = 64;

    /// <summary>Width of the hidden layer of every encoder and decoder.</summary>
    [Flag("hidden layer width of the encoders (and decoders)")]
    public int HiddenSize { get; init; } = 256;

    /// <summary>Whether training needs class embeddings (one row per class: word vectors of the class names).</summary>
    [JsonIgnore]
    public virtual bool UsesClassEmbeddings => false;

    /// <inheritdoc/>
    public override ModelConfig ForData(DataShape shape) => this with { ImgDim = shape.ImageDim, TxtDim = shape.TextDim, NumClasses = shape.Classes };

    /// <inheritdoc/>
    public override void Validate()
    {
        Need(ImgDim > 0 && TxtDim > 0, $"img_dim and txt_dim must be positive (got {ImgDim} and {TxtDim}).");
        Need(NumClasses >= 2, $"num_classes must be at least 2 (a classifier needs two classes), got {NumClasses}.");
        Need(EmbedSize > 0 && HiddenSize > 0, $"embed_size and hidden_size must be positive (got {EmbedSize} and {HiddenSize}).");
    }
}
