using CrossModal.Checkpoints;
using CrossModal.Checkpoints.Torch;
using CrossModal.Tensors;
using CrossModal.Tensors.IO;

namespace CrossModal.Models.Naaf;

/// <summary>
/// The word-vector table NAAF's GloVe text encoder starts from: one row per vocabulary entry, in the vocabulary's id
/// order. Read from the file as NAAF distributes it (<c>glove_840B_{f30k,coco}_precomp.json.pkl</c>, a torch.save'd
/// float tensor, legacy or zip format, read by the restricted unpickler: nothing is executed) or from a .npy matrix.
/// A table whose row count differs from the vocabulary size is refused (the original would only fail at the first
/// id beyond it, or silently use wrong rows).
/// </summary>
public sealed class GloveTable
{
    private GloveTable(string source, Tensor vectors)
    {
        Source = source;
        Vectors = vectors;
    }

    /// <summary>The file the table came from.</summary>
    public string Source { get; }

    /// <summary>The table [V, dim].</summary>
    public Tensor Vectors { get; }

    /// <summary>Rows (vocabulary entries).</summary>
    public int Rows => Vectors.Dim(0);

    /// <summary>Vector width.</summary>
    public int Dim => Vectors.Dim(1);

    /// <summary>
    /// Reads <paramref name="path"/> (.npy, or a torch file holding one tensor) and checks it has
    /// <paramref name="vocabularySize"/> rows of <paramref name="wordDim"/> values; every failure is one
    /// <see cref="InvalidDataException"/> naming the file, what was expected and what was found.
    /// </summary>
    public static GloveTable Load(string path, int vocabularySize, int wordDim)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: GloVe file not found.", path);
        Tensor vectors;
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) vectors = Npy.ReadFloat32(path);
        else
        {
            var root = TorchCheckpoint.Load(path).Root;
            var t = root as TorchTensor
                ?? throw new InvalidDataException($"{path}: a GloVe file must hold one tensor (torch.save of the V x dim table, as NAAF's glove_840B_*_precomp.json.pkl), found a {root?.GetType().Name ?? "None"}.");
            // float32 as NAAF's files (float64 and float16 convert exactly enough); an integer table is not word vectors.
            if (t.DType is not ("float32" or "float64" or "float16"))
                throw new InvalidDataException($"{path}: the GloVe table holds {t.DType} values; expected float32 word vectors.");
            vectors = t.Value;
        }
        if (vectors.Rank != 2) throw new InvalidDataException($"{path}: the GloVe table has shape {Tensor.FormatShape(vectors.ShapeSpan)}, expected [vocabulary size, word_dim] = [{vocabularySize}, {wordDim}].");
        if (vectors.Dim(0) != vocabularySize)
            throw new InvalidDataException($"{path}: the GloVe table has {vectors.Dim(0)} rows but the vocabulary has {vocabularySize} words; it needs one row per vocabulary id, in the vocabulary's order (made for another vocabulary?).");
        if (vectors.Dim(1) != wordDim)
            throw new InvalidDataException($"{path}: the GloVe vectors have {vectors.Dim(1)} values, word_dim is {wordDim}.");
        foreach (float v in vectors.Data)
            if (!float.IsFinite(v)) throw new InvalidDataException($"{path}: the GloVe table holds a non-finite value ({v}).");
        return new GloveTable(path, vectors);
    }

    /// <summary>Copies the table into a GloVe text encoder's embedding.</summary>
    public void CopyTo(GloveTextEncoder encoder)
    {
        var w = encoder.Embed.Glove.Weight;
        if (!w.ShapeSpan.SequenceEqual(Vectors.ShapeSpan)) throw new ArgumentException($"{Source}: table {Tensor.FormatShape(Vectors.ShapeSpan)} does not fit the encoder's {Tensor.FormatShape(w.ShapeSpan)}.");
        Vectors.Data.CopyTo(w.Data);
    }
}
