using CrossModal.Tensors;

namespace CrossModal.Data;

/// <summary>
/// A training or evaluation batch as the originals' collate function builds it: rows sorted by caption length,
/// descending (ties keep their order in the request), captions zero-padded (<c>&lt;pad&gt;</c> = 0) to the longest.
/// </summary>
/// <param name="CaptionIndices">Caption index of each row (into the dataset), in batch order.</param>
/// <param name="ImageIndices">Feature row of each row's image (captions of one image share it; not de-duplicated, as in the originals).</param>
/// <param name="Images">[B, R, D] region features or [B, D] global features, row i for caption i; from
/// <see cref="Tensor.Empty"/>, so it is pooled inside the caller's <see cref="TensorScope"/>.</param>
/// <param name="Tokens">[B * MaxLength] ids, row-major, zero-padded.</param>
/// <param name="Lengths">True length of each row in ids, including &lt;start&gt; and &lt;end&gt;.</param>
/// <param name="MaxLength">Lengths[0], the padded length.</param>
public sealed record Batch(int[] CaptionIndices, int[] ImageIndices, Tensor Images, int[] Tokens, int[] Lengths, int MaxLength) : IBatch
{
    /// <summary>Number of rows.</summary>
    public int Size => CaptionIndices.Length;

    /// <summary>The padded ids of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<int> Row(int row) => Tokens.AsSpan(row * MaxLength, MaxLength);

    internal static Batch Create(PrecompDataset data, ReadOnlySpan<int> captions)
    {
        int b = captions.Length;
        if (b == 0) throw new ArgumentException("A batch needs at least one caption.", nameof(captions));
        var order = captions.ToArray();
        var lengths = new int[b];
        for (int i = 0; i < b; i++) lengths[i] = data.CaptionLength(order[i]);
        // Stable sort by length, descending: Python's list.sort(key=len, reverse=True) keeps ties in order.
        var positions = new int[b];
        for (int i = 0; i < b; i++) positions[i] = i;
        Array.Sort(positions, (x, y) => lengths[x] != lengths[y] ? lengths[y].CompareTo(lengths[x]) : x.CompareTo(y));

        var captionIndices = new int[b];
        var sortedLengths = new int[b];
        var images = new int[b];
        for (int i = 0; i < b; i++)
        {
            captionIndices[i] = order[positions[i]];
            sortedLengths[i] = lengths[positions[i]];
            images[i] = data.ImageOf(captionIndices[i]);
        }
        int maxLength = sortedLengths[0];
        var tokens = new int[b * maxLength];
        for (int i = 0; i < b; i++) data.CaptionTokens(captionIndices[i]).CopyTo(tokens.AsSpan(i * maxLength));
        var imageTensor = data.GatherImages(images);
        return new Batch(captionIndices, images, imageTensor, tokens, sortedLengths, maxLength);
    }
}
