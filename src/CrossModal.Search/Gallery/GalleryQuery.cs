using CrossModal.Models;
using CrossModal.Text;

namespace CrossModal.Search.Gallery;

/// <summary>
/// An encoded query: a caption-like text or an image, as the gallery's model encodes it (one item of rows), plus
/// what the vocabulary did with the text's words.
/// </summary>
public sealed class GalleryQuery
{
    private GalleryQuery(bool isImage, EmbeddingSet encoded, IReadOnlyList<string> unknownWords)
    {
        IsImage = isImage;
        Encoded = encoded;
        UnknownWords = unknownWords;
    }

    /// <summary>True for an image query, false for text.</summary>
    public bool IsImage { get; }

    /// <summary>The encoding: one item (one row for VSE++, words or regions for SCAN).</summary>
    public EmbeddingSet Encoded { get; }

    /// <summary>Words of a text query that the vocabulary does not know (they are encoded as &lt;unk&gt;), in order, once each.</summary>
    public IReadOnlyList<string> UnknownWords { get; }

    /// <summary>
    /// Encodes <paramref name="text"/> as a caption (lower-cased, NLTK word_tokenize, the model's vocabulary). An
    /// empty text, or one without any token, is an <see cref="ArgumentException"/>.
    /// </summary>
    public static GalleryQuery FromText(ModelHandle model, string text)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tokens = WordTokenizer.TokenizeCaption(text ?? "");
        if (tokens.Count == 0) throw new ArgumentException("The text query is empty (no words after tokenisation); give a sentence such as \"two dogs run on the beach\".");
        var unknown = tokens.Where(t => !model.Vocabulary.Contains(t)).Distinct(StringComparer.Ordinal).ToList();
        return new GalleryQuery(false, model.EncodeText([text!]), unknown);
    }

    /// <summary>Encodes an image given as its input features (regions x dim floats, regions = 0 for one vector).</summary>
    public static GalleryQuery FromFeatures(ModelHandle model, float[] features, int regions, int dim)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new GalleryQuery(true, model.EncodeImages(features, 1, regions, dim), Array.Empty<string>());
    }
}
