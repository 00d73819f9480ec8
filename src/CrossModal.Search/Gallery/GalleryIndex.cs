using System.Buffers.Binary;
using System.Text;
using CrossModal.Models;
using CrossModal.Search.Exact;
using CrossModal.Search.Hnsw;
using CrossModal.Search.IO;
using CrossModal.Search.Quantized;
using CrossModal.Tensors.IO;

namespace CrossModal.Search.Gallery;

/// <summary>
/// A searchable gallery encoded once by one checkpoint: its images (and captions, when given) with ids and
/// source paths, one pooled vector per item in a vector index, and for cross-attention models the items' row sets
/// (float16) for re-scoring. Stored as one file (see <see cref="GalleryFile"/>), written atomically; opening maps
/// it (O(1) in the gallery's size, pages read when searched), appending rewrites it from a temporary file.
/// </summary>
public sealed unsafe class GalleryIndex : IDisposable
{
    private readonly FileMapping? _mapping;

    private GalleryIndex(GalleryMetadata metadata, GalleryCollection images, GalleryCollection? captions, string source, FileMapping? mapping)
    {
        Metadata = metadata;
        Images = images;
        Captions = captions;
        Source = source;
        _mapping = mapping;
    }

    /// <summary>The metadata (checkpoint identity, pipeline, structure).</summary>
    public GalleryMetadata Metadata { get; private set; }

    /// <summary>The images.</summary>
    public GalleryCollection Images { get; }

    /// <summary>The captions (null when the gallery was built without them).</summary>
    public GalleryCollection? Captions { get; }

    /// <summary>The file the gallery was opened from ("new gallery" for one being built).</summary>
    public string Source { get; }

    /// <summary>
    /// A new, empty gallery for <paramref name="model"/>, whose file is <paramref name="checkpoint"/>. Whether the
    /// pooled vectors' scores are final (<see cref="GalleryMetadata.Direct"/>) is measured here: the model scores
    /// a probe image against a probe caption and the result is compared with the inner product of their vectors.
    /// </summary>
    public static GalleryIndex Create(ModelHandle model, CheckpointIdentity checkpoint, VectorIndexKind structure, int featureRegions, int featureDim,
        bool withCaptions, ImagePipeline? imageFeatures = null, HnswOptions? hnsw = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool direct = ScoresAreInnerProducts(model, featureRegions, featureDim);
        var metadata = new GalleryMetadata
        {
            Checkpoint = checkpoint, Family = model.Family.Name, ModelConfig = model.Config.ToJson(), EmbedSize = model.EmbedSize, Direct = direct,
            Structure = structure.ToString().ToLowerInvariant(), FeatureRegions = featureRegions, FeatureDim = featureDim, ImageFeatures = imageFeatures,
        };
        IVectorIndex NewIndex() => structure switch
        {
            VectorIndexKind.Exact => new ExactIndex(model.EmbedSize),
            VectorIndexKind.Int8 => new Int8Index(model.EmbedSize),
            _ => new HnswIndex(model.EmbedSize, hnsw),
        };
        var images = new GalleryCollection("images", new(), NewIndex(), direct ? null : new ItemSets(model.EmbedSize));
        var captions = withCaptions ? new GalleryCollection("captions", new(), NewIndex(), direct ? null : new ItemSets(model.EmbedSize)) : null;
        return new GalleryIndex(metadata, images, captions, "new gallery", null);
    }

    /// <summary>
    /// Opens the gallery file <paramref name="path"/>. Read-only (<paramref name="writable"/> false): memory-mapped,
    /// nothing copied. Writable: the vector indexes are read into memory so that items can be appended; the row sets
    /// stay mapped until <see cref="Save"/> copies them. A truncated, foreign or inconsistent file is one
    /// <see cref="InvalidDataException"/> naming the file, what was expected and what was found.
    /// </summary>
    public static GalleryIndex Open(string path, bool writable = false)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: gallery index not found.", path);
        var (metadata, _) = GalleryFile.ReadMetadata(path);
        var mapping = FileMapping.Open(path);
        var opened = new List<IDisposable>();
        try
        {
            var images = OpenCollection("images", metadata, mapping, path, writable, opened)
                ?? throw new InvalidDataException($"{path}: the gallery has no images section.");
            var captions = OpenCollection("captions", metadata, mapping, path, writable, opened);
            return new GalleryIndex(metadata, images, captions, path, mapping);
        }
        catch
        {
            foreach (var o in opened) o.Dispose();
            mapping.Dispose();
            throw;
        }
    }

    private static GalleryCollection? OpenCollection(string name, GalleryMetadata metadata, FileMapping mapping, string path, bool writable, List<IDisposable> opened)
    {
        if (!metadata.Sections.TryGetValue(name + ".items", out var itemsSection)) return null;
        var vectorsSection = Section(metadata, name + ".vectors", path);
        string text;
        try { text = new UTF8Encoding(false, true).GetString(mapping.Pointer + itemsSection.Offset, checked((int)itemsSection.Length)); }
        catch (DecoderFallbackException e) { throw new InvalidDataException($"{path}: the {name} item list is not valid UTF-8 ({e.Message}).", e); }
        var lines = text.Split('\n');
        if (lines[^1].Length != 0) throw new InvalidDataException($"{path}: the {name} item list does not end with a line break.");
        var items = new List<GalleryItem>(lines.Length - 1);
        for (int i = 0; i < lines.Length - 1; i++) items.Add(GalleryItem.Parse(lines[i], path, i));
        IVectorIndex vectors;
        byte* at = mapping.Pointer + vectorsSection.Offset;
        if (writable)
        {
            using var stream = new UnmanagedMemoryStream(at, vectorsSection.Length);
            vectors = VectorIndexSection.Read(stream, path);
        }
        else vectors = VectorIndexSection.MapAt(at, vectorsSection.Length, path);
        opened.Add(vectors);
        ItemSets? sets = null;
        if (metadata.Sections.TryGetValue(name + ".sets", out var setsSection))
            sets = ItemSets.Map(mapping.Pointer + setsSection.Offset, setsSection.Length, path);
        if (vectors.Dimension != metadata.EmbedSize)
            throw new InvalidDataException($"{path}: the {name} vectors have dimension {vectors.Dimension}, the metadata says {metadata.EmbedSize}.");
        if (vectors.Count != items.Count || (sets is not null && sets.Count != items.Count))
            throw new InvalidDataException($"{path}: the {name} sections disagree: {items.Count} items, {vectors.Count} vectors{(sets is null ? "" : $", {sets.Count} row sets")}.");
        if (!metadata.Direct && sets is null)
            throw new InvalidDataException($"{path}: a cross-attention gallery needs the {name} row sets; the section is missing.");
        return new GalleryCollection(name, items, vectors, sets);
    }

    private static GallerySection Section(GalleryMetadata metadata, string name, string path) =>
        metadata.Sections.TryGetValue(name, out var s) ? s : throw new InvalidDataException($"{path}: the gallery has no '{name}' section.");

    /// <summary>
    /// Checks that <paramref name="checkpointPath"/> (default: the recorded path) is the checkpoint the gallery was
    /// built with, then loads it. Any other file is refused (its vectors live in another space).
    /// </summary>
    public ModelHandle LoadModel(string? checkpointPath = null, string? vocabPath = null, CancellationToken cancellationToken = default)
    {
        string path = checkpointPath ?? Metadata.Checkpoint.Path;
        Metadata.Checkpoint.Verify(path, "checkpoint", Source);
        return ModelHandle.Load(path, vocabPath, cancellationToken);
    }

    /// <summary>Records what was added (shown by <c>crossmodal index info</c>).</summary>
    public void AddSource(string description) => Metadata.Sources.Add(description);

    /// <summary>Encodes images given as input features (count x regions x dim) and appends them with <paramref name="items"/>.</summary>
    public void AddImages(ModelHandle model, float[] features, IReadOnlyList<GalleryItem> items, int batchSize = 128, CancellationToken cancellationToken = default)
    {
        var encoded = EncodeImages(model, features, items.Count, batchSize);
        Images.Add(encoded, items, cancellationToken);
    }

    /// <summary>Encodes captions and appends them (item text = the caption).</summary>
    public void AddCaptions(ModelHandle model, IReadOnlyList<GalleryItem> items, CancellationToken cancellationToken = default)
    {
        var captions = Captions ?? throw new InvalidOperationException($"{Source}: the gallery was built without captions.");
        var encoded = EncodeCaptions(model, items.Select(i => i.Text).ToList());
        captions.Add(encoded, items, cancellationToken);
    }

    /// <summary>
    /// The encodings <see cref="AddImages"/> appends, without appending them (a rank of a sharded build encodes its
    /// share and rank 0 appends).
    /// </summary>
    internal EmbeddingSet EncodeImages(ModelHandle model, float[] features, int count, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckModel(model);
        int length = Math.Max(1, Metadata.FeatureRegions) * Metadata.FeatureDim;
        if (features.Length != count * length)
            throw new ArgumentException($"{features.Length} feature values for {count} images of {Math.Max(1, Metadata.FeatureRegions)} x {Metadata.FeatureDim}.");
        return model.EncodeImages(features, count, Metadata.FeatureRegions, Metadata.FeatureDim, batchSize);
    }

    /// <summary>The encodings <see cref="AddCaptions"/> appends, without appending them.</summary>
    internal EmbeddingSet EncodeCaptions(ModelHandle model, IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckModel(model);
        return model.EncodeText(texts);
    }

    private void CheckModel(ModelHandle model)
    {
        if (model.EmbedSize != Metadata.EmbedSize || model.Family.Name != Metadata.Family)
            throw new InvalidDataException($"{Source}: the gallery holds {Metadata.Family} vectors of width {Metadata.EmbedSize}; the model is {model.Family.Name} of width {model.EmbedSize}.");
    }

    /// <summary>
    /// The top <paramref name="k"/> items of <paramref name="target"/> for <paramref name="query"/>. A query of the
    /// other modality is scored by the model: directly by the vector index for single-vector models, otherwise the
    /// index's top <paramref name="rerank"/> by pooled vectors are re-scored by the cross-attention model. A query
    /// of the same modality (image by image) ranks by the cosine of pooled vectors.
    /// </summary>
    public IReadOnlyList<GalleryHit> Search(ModelHandle model, GalleryQuery query, GalleryTarget target, int k, int rerank = 128, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(query);
        CheckModel(model);
        SearchArguments.CheckK(k);
        if (rerank < 1) throw new ArgumentOutOfRangeException(nameof(rerank), rerank, "The number of re-scored candidates must be at least 1.");
        var collection = target == GalleryTarget.Images ? Images
            : Captions ?? throw new ArgumentException($"{Source}: the gallery holds no captions (build it with --captions to search them).");
        int d = Metadata.EmbedSize;
        var pooled = new float[d];
        GalleryCollection.Pool(query.Encoded.Item(0), d, pooled, "the query");
        bool crossModal = query.IsImage == (target == GalleryTarget.Captions);
        bool rescore = crossModal && !Metadata.Direct;
        int candidates = Math.Min(rescore ? Math.Max(k, rerank) : k, Math.Max(1, collection.Count));
        var r = collection.Vectors.Search(pooled, candidates, cancellationToken);
        var ids = r.IdsOf(0).ToArray().Where(id => id >= 0).ToArray();
        var scores = r.ScoresOf(0)[..ids.Length].ToArray();
        if (rescore && ids.Length > 0) scores = Rescore(model, query, collection, ids);
        var order = Enumerable.Range(0, ids.Length).OrderByDescending(i => scores[i]).ThenBy(i => ids[i]).Take(k).ToArray();
        return order.Select((i, rank) => new GalleryHit(rank + 1, ids[i], collection.Items[ids[i]], scores[i])).ToArray();
    }

    /// <summary>The model's scores of the query against the candidates <paramref name="ids"/> of <paramref name="collection"/>.</summary>
    private static float[] Rescore(ModelHandle model, GalleryQuery query, GalleryCollection collection, int[] ids)
    {
        var candidates = new EmbeddingSet(model.EmbedSize);
        foreach (int id in ids) candidates.Append(collection.Rows(id));
        var scores = new float[ids.Length];
        if (query.IsImage) model.ScoreBlock(query.Encoded, 0, 1, candidates, 0, ids.Length, scores, ids.Length);
        else model.ScoreBlock(candidates, 0, ids.Length, query.Encoded, 0, 1, scores, 1);
        return scores;
    }

    /// <summary>
    /// Whether the model's score of an image and a caption is the inner product of their (single, unit) encodings,
    /// tested on probe inputs: then the vector index's scores are final and no row sets are stored.
    /// </summary>
    private static bool ScoresAreInnerProducts(ModelHandle model, int featureRegions, int featureDim)
    {
        int length = Math.Max(1, featureRegions) * featureDim;
        var features = new float[2 * length];
        var rng = new Tensors.Rng(17);
        for (int i = 0; i < features.Length; i++) features[i] = rng.NextFloat();
        var images = model.EncodeImages(features, 2, featureRegions, featureDim);
        var words = model.Vocabulary.Words.Skip(4).Take(3).ToArray();
        var captions = model.EncodeText([string.Join(' ', words.Length > 0 ? words : ["a"]), words.Length > 0 ? words[0] : "a"]);
        for (int i = 0; i < 2; i++)
            if (images.Length(i) != 1 || captions.Length(i) != 1) return false;
        var scores = new float[4];
        model.ScoreBlock(images, 0, 2, captions, 0, 2, scores, 2);
        int d = model.EmbedSize;
        for (int i = 0; i < 2; i++)
        {
            double norm = 0;
            for (int j = 0; j < d; j++) norm += (double)images.Item(i)[j] * images.Item(i)[j];
            if (Math.Abs(Math.Sqrt(norm) - 1) > UnitVectors.NormTolerance) return false;
            for (int c = 0; c < 2; c++)
            {
                double dot = 0, cn = 0;
                for (int j = 0; j < d; j++)
                {
                    dot += (double)images.Item(i)[j] * captions.Item(c)[j];
                    cn += (double)captions.Item(c)[j] * captions.Item(c)[j];
                }
                if (Math.Abs(Math.Sqrt(cn) - 1) > UnitVectors.NormTolerance || Math.Abs(dot - scores[i * 2 + c]) > 1e-4) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Writes the gallery to <paramref name="path"/> atomically: a temporary file in the same folder, renamed over
    /// the target only when complete; on any failure the previous file is untouched.
    /// </summary>
    public void Save(string path, CancellationToken cancellationToken = default)
    {
        AtomicFile.Write(path, stream => GalleryFile.Write(stream, Metadata, Images, Captions, cancellationToken));
    }

    /// <summary>Unmaps the file and frees the indexes.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Captions?.Dispose();
        _mapping?.Dispose();
    }
}
