using CrossModal.Checkpoints;
using CrossModal.Data;
using CrossModal.Models.Files;
using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;
using CrossModal.Text;

namespace CrossModal.Models;

/// <summary>
/// A trained instance-level model opened for inference: encode images and captions from any source (a precomp
/// split, feature rows, free text) and score encoded blocks, without gradients and without ever switching the
/// model's mode. The model is in evaluation mode for the handle's whole life (the constructor checks it), nothing
/// here writes to it, and every call keeps its temporaries in its own thread's scope, so one handle serves
/// several threads at once (a server's concurrent requests, or the evaluator's shards).
/// </summary>
public sealed class ModelHandle
{
    private readonly MatchingModel _model;
    private readonly Func<Tensor, Tensor> _encodeImages;

    /// <summary>
    /// A handle on <paramref name="model"/>, which must be in evaluation mode (<c>model.Eval()</c>) and must not be
    /// trained while the handle is in use; <paramref name="vocabulary"/> is the one its word ids refer to.
    /// </summary>
    public ModelHandle(MatchingModel model, Vocabulary vocabulary, string source = "model")
    {
        if (model.Training) throw new ArgumentException("A model handle needs the model in evaluation mode (call Eval() first).", nameof(model));
        if (vocabulary.Count != ((MatchingConfig)model.Config).VocabSize)
            throw new InvalidDataException($"{source}: the model's word embedding has {((MatchingConfig)model.Config).VocabSize} rows, the vocabulary has {vocabulary.Count} words.");
        _model = model;
        _encodeImages = model.FrozenImageEncoder();
        Vocabulary = vocabulary;
        Source = source;
    }

    /// <summary>
    /// Opens a trained model: a CrossModal checkpoint (.safetensors, which carries its vocabulary) or an original
    /// PyTorch checkpoint (model_best.pth.tar, zip or legacy; read without executing anything) of any registered
    /// family, with the vocabulary given separately (<paramref name="vocabPath"/>) for files that carry none.
    /// </summary>
    public static ModelHandle Load(string path, string? vocabPath = null, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        RetrievalModel model;
        string? vocabJson = null;
        if (TorchCheckpoint.IsTorchCheckpoint(path))
        {
            model = OriginalCheckpoint.Load(path, cancellationToken).CreateModel();
        }
        else
        {
            var content = ModelFile.Read(path);
            model = ModelFile.CreateModel(content);
            vocabJson = content.VocabJson;
        }
        if (model is not MatchingModel matching)
            throw new InvalidDataException($"{path}: a {model.Family.Name} model is a category-level model; it has no captions to encode (evaluate it with its labelled data).");
        Vocabulary vocab = vocabPath is not null ? VocabularyFile.Load(vocabPath)
            : vocabJson is not null ? Vocabulary.FromJson(vocabJson, path)
            : throw new InvalidDataException($"{path}: the checkpoint carries no vocabulary; pass --vocab (the vocabulary JSON the model was trained with).");
        var config = (MatchingConfig)model.Config;
        if (vocab.Count != config.VocabSize)
            throw new InvalidDataException($"{path}: the model's word embedding has {config.VocabSize} rows, the vocabulary {(vocabPath ?? "in the checkpoint")} has {vocab.Count} words.");
        model.Eval();
        return new ModelHandle(matching, vocab, path);
    }

    /// <summary>Where the model came from (a file name, or "model").</summary>
    public string Source { get; }

    /// <summary>The model's configuration.</summary>
    public MatchingConfig Config => (MatchingConfig)_model.Config;

    /// <summary>The model's family.</summary>
    public ModelFamily Family => _model.Family;

    /// <summary>The vocabulary the model's word ids refer to.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Width of the encoded vectors.</summary>
    public int EmbedSize => _model.EmbedSize;

    /// <summary>The images x captions block size scoring should use.</summary>
    public int ShardSize => _model.EvaluationShardSize;

    /// <summary>Encodes every image of <paramref name="data"/> once, in file order, <paramref name="batchSize"/> at a time.</summary>
    public EmbeddingSet EncodeImages(PrecompDataset data, int batchSize = 128, CancellationToken cancellationToken = default) =>
        EncodeImages(data, 0, data.ImageCount, batchSize, cancellationToken);

    /// <summary>
    /// Encodes images [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="data"/>, in
    /// batches of <paramref name="batchSize"/> from <paramref name="start"/>: when start is a multiple of the batch
    /// size these are batches of the whole split's encoding, so the vectors are bit-identical to it (the sharded
    /// evaluator relies on that).
    /// </summary>
    public EmbeddingSet EncodeImages(PrecompDataset data, int start, int count, int batchSize = 128, CancellationToken cancellationToken = default)
    {
        CheckRange(start, count, data.ImageCount, "images");
        // Checked here, where both files are known, so the message names them (the encoder only knows shapes).
        int imgDim = ((MatchingConfig)_model.Config).ImgDim;
        if (data.FeatureDim != imgDim)
            throw new InvalidDataException($"{data.FeaturesPath}: image features are {data.FeatureDim} wide, but the model {Source} was built for img_dim {imgDim}.");
        return EncodeImages(start, count, data.Regions, data.FeatureDim, batchSize, (i, row) => data.ImageFeatures(i).CopyTo(row), cancellationToken);
    }

    /// <summary>
    /// Encodes <paramref name="count"/> images given as feature rows: count x regions x dim floats (regions = 0 for
    /// one vector per image), e.g. the output of an ONNX feature extractor.
    /// </summary>
    public EmbeddingSet EncodeImages(float[] features, int count, int regions, int dim, int batchSize = 128)
    {
        int length = Math.Max(1, regions) * dim;
        if (features.Length != count * length) throw new ArgumentException($"{features.Length} floats are not {count} images of {Math.Max(1, regions)} x {dim}.");
        return EncodeImages(0, count, regions, dim, batchSize, (i, row) => features.AsSpan(i * length, length).CopyTo(row), CancellationToken.None);
    }

    /// <summary>The one image-encoding loop: images [start, start + count), batches from start, rows filled by <paramref name="fill"/>.</summary>
    private EmbeddingSet EncodeImages(int start, int count, int regions, int dim, int batchSize, ImageRow fill, CancellationToken cancellationToken)
    {
        var images = new EmbeddingSet(EmbedSize);
        int length = Math.Max(1, regions) * dim;
        for (int at = start; at < start + count; at += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int c = Math.Min(batchSize, start + count - at);
            using var scope = TensorScope.Begin();
            var features = regions > 0 ? Tensor.Empty(c, regions, dim) : Tensor.Empty(c, dim);
            for (int i = 0; i < c; i++) fill(at + i, features.Data.Slice(i * length, length));
            AddImages(features, images);
        }
        return images;
    }

    private delegate void ImageRow(int image, Span<float> row);

    /// <summary>Encodes every caption of <paramref name="data"/>, in file order.</summary>
    public EmbeddingSet EncodeCaptions(PrecompDataset data, int batchSize = 128, CancellationToken cancellationToken = default) =>
        EncodeCaptions(data, 0, data.CaptionCount, batchSize, cancellationToken);

    /// <summary>
    /// Encodes captions [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="data"/> in
    /// batches from <paramref name="start"/> (bit-identical to the whole split's encoding when start is a multiple of
    /// the batch size).
    /// </summary>
    public EmbeddingSet EncodeCaptions(PrecompDataset data, int start, int count, int batchSize = 128, CancellationToken cancellationToken = default)
    {
        CheckRange(start, count, data.CaptionCount, "captions");
        var captions = new EmbeddingSet(EmbedSize);
        for (int at = start; at < start + count; at += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, start + count - at);
            var ids = new int[n][];
            for (int i = 0; i < n; i++) ids[i] = data.CaptionTokens(at + i).ToArray();
            AddCaptions(ids, captions);
        }
        return captions;
    }

    /// <summary>Encodes captions given as token ids (each <c>&lt;start&gt;</c> ... <c>&lt;end&gt;</c>, as <see cref="Vocabulary.Encode(string)"/> makes them).</summary>
    public EmbeddingSet EncodeCaptions(IReadOnlyList<int[]> tokenIds, int batchSize = 128)
    {
        var captions = new EmbeddingSet(EmbedSize);
        for (int start = 0; start < tokenIds.Count; start += batchSize)
            AddCaptions(tokenIds.Skip(start).Take(Math.Min(batchSize, tokenIds.Count - start)).ToArray(), captions);
        return captions;
    }

    /// <summary>Whether the model can describe images: it has a captioning branch with weights (VSRN trained here).</summary>
    public bool CanCaption => _model is ICaptioningModel { CanCaption: true };

    /// <summary>
    /// Greedy captions of the first <paramref name="count"/> images of <paramref name="data"/> (file order),
    /// <paramref name="batchSize"/> at a time: per image the word ids after &lt;start&gt; up to the first &lt;end&gt;.
    /// </summary>
    public IReadOnlyList<int[]> CaptionImages(PrecompDataset data, int count, int batchSize = 128, CancellationToken cancellationToken = default)
    {
        if (_model is not ICaptioningModel { CanCaption: true } captioner)
            throw new InvalidOperationException($"{Source}: a {Family.Name} model without a trained captioning branch cannot describe images.");
        if (data.Regions == 0) throw new InvalidDataException($"{data.FeaturesPath}: captioning needs region features [N, regions, dim], the file has one vector per image.");
        count = Math.Min(count, data.ImageCount);
        var result = new List<int[]>(count);
        for (int start = 0; start < count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int c = Math.Min(batchSize, count - start);
            using var scope = TensorScope.Begin();
            var features = Tensor.Empty(c, data.Regions, data.FeatureDim);
            for (int i = 0; i < c; i++) data.ImageFeatures(start + i).CopyTo(features.Data.Slice(i * data.ImageLength, data.ImageLength));
            result.AddRange(captioner.Caption(features));
        }
        return result;
    }

    /// <summary>Encodes free text: lower-cased, tokenised like NLTK's word_tokenize, mapped through the vocabulary.</summary>
    public EmbeddingSet EncodeText(IReadOnlyList<string> texts) => EncodeCaptions(texts.Select(Vocabulary.Encode).ToList());

    /// <summary>
    /// Scores images [i0, i1) against captions [j0, j1) into output (row stride <paramref name="ldo"/>), without
    /// gradients.
    /// </summary>
    public void ScoreBlock(EmbeddingSet images, int i0, int i1, EmbeddingSet captions, int j0, int j1, Span<float> output, int ldo) =>
        _model.ScoreBlock(images, i0, i1, captions, j0, j1, output, ldo);

    /// <summary>
    /// Explains the score of one image, given as its raw features (regions x dim floats; regions = 0 for one
    /// vector), against one caption's token ids; null when the model's family offers no explanation.
    /// </summary>
    public ScoreExplanation? Explain(ReadOnlySpan<float> features, int regions, int dim, int[] tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("A caption needs at least one token.");
        if (features.Length != Math.Max(1, regions) * dim) throw new ArgumentException($"{features.Length} floats are not one image of {Math.Max(1, regions)} x {dim}.");
        using var scope = TensorScope.Begin();
        var tensor = regions > 0 ? Tensor.Empty(1, regions, dim) : Tensor.Empty(1, dim);
        features.CopyTo(tensor.Data);
        return _model.Explain(tensor, tokens);
    }

    /// <summary>
    /// Explains the score of one image given as its encoding (<paramref name="rows"/> x <see cref="EmbedSize"/>
    /// floats, as <see cref="EncodeImages(float[], int, int, int, int)"/> or a gallery index gives it) against one caption's token ids;
    /// null when the family cannot explain from an encoding.
    /// </summary>
    public ScoreExplanation? ExplainEncoded(ReadOnlySpan<float> image, int rows, int[] tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("A caption needs at least one token.");
        if (rows < 1 || image.Length != rows * EmbedSize) throw new ArgumentException($"{image.Length} floats are not {rows} encoded rows of {EmbedSize}.");
        return _model.ExplainEncoded(image, rows, tokens);
    }

    private static void CheckRange(int start, int count, int total, string what)
    {
        if (start < 0 || count < 0 || start > total - count)
            throw new ArgumentOutOfRangeException(nameof(start), $"{what} [{start}, {(long)start + count}) outside the split's {total}.");
    }

    private void AddImages(Tensor features, EmbeddingSet images)
    {
        using var noGrad = Tape.NoGrad();
        var encoded = _encodeImages(features);
        var lens = new int[features.Dim(0)];
        Array.Fill(lens, encoded.Rank == 3 ? encoded.Dim(1) : 1);
        images.AddBatch(encoded, lens);
    }

    private void AddCaptions(int[][] ids, EmbeddingSet captions)
    {
        int count = ids.Length, maxLen = 0;
        var lengths = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (ids[i].Length == 0) throw new ArgumentException("A caption needs at least one token.");
            maxLen = Math.Max(maxLen, lengths[i] = ids[i].Length);
        }
        var tokens = new int[count * maxLen];
        for (int i = 0; i < count; i++) ids[i].CopyTo(tokens, i * maxLen);
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        captions.AddBatch(_model.EncodeCaptions(tokens, lengths, maxLen), lengths);
    }
}
