namespace CrossModal.Search;

/// <summary>Conveniences over <see cref="IVectorIndex"/>.</summary>
public static class VectorIndexExtensions
{
    /// <summary>Searches <paramref name="queries"/> ([q x Dimension]) and returns the top <paramref name="k"/> of each.</summary>
    public static SearchResult Search(this IVectorIndex index, ReadOnlySpan<float> queries, int k, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        int count = SearchArguments.QueryCount(queries.Length, index.Dimension);
        SearchArguments.CheckK(k);
        var ids = new int[checked(count * k)];
        var scores = new float[ids.Length];
        index.Search(queries, k, ids, scores, cancellationToken);
        return new SearchResult(count, k, ids, scores);
    }

    /// <summary>Writes <paramref name="index"/> to <paramref name="path"/> atomically (a temporary file renamed over it).</summary>
    public static void Save(this IVectorIndex index, string path)
    {
        ArgumentNullException.ThrowIfNull(index);
        Tensors.IO.AtomicFile.Write(path, index.Save);
    }
}
