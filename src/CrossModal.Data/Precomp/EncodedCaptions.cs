using CrossModal.Tensors.Threading;
using CrossModal.Text;

namespace CrossModal.Data.Precomp;

/// <summary>
/// Captions encoded once with a vocabulary and stored flat: all ids in one array, caption k at
/// [Offsets[k], Offsets[k+1]). COCO's 566k training captions take about 30 MB this way instead of half a million
/// small arrays. Encoding runs across the cores in fixed contiguous chunks, so the result does not depend on
/// scheduling.
/// </summary>
internal sealed class EncodedCaptions
{
    private EncodedCaptions(int[] ids, int[] offsets)
    {
        Ids = ids;
        Offsets = offsets;
    }

    /// <summary>All ids, caption after caption.</summary>
    public int[] Ids { get; }

    /// <summary>Start of each caption in <see cref="Ids"/>, plus the total at the end.</summary>
    public int[] Offsets { get; }

    /// <summary>Number of captions.</summary>
    public int Count => Offsets.Length - 1;

    /// <summary>Ids of caption <paramref name="k"/> (with &lt;start&gt; and &lt;end&gt;).</summary>
    public ReadOnlySpan<int> this[int k] => Ids.AsSpan(Offsets[k], Offsets[k + 1] - Offsets[k]);

    /// <summary>Length of caption <paramref name="k"/> in ids.</summary>
    public int Length(int k) => Offsets[k + 1] - Offsets[k];

    /// <summary>
    /// The first caption none of whose words the vocabulary knows (every id between &lt;start&gt; and &lt;end&gt; is
    /// &lt;unk&gt;, or there is none), or -1. Such a caption carries no signal: it means the wrong vocabulary or a broken line.
    /// </summary>
    public int FirstWithoutKnownWord(int unkId)
    {
        for (int k = 0; k < Count; k++)
        {
            var ids = this[k];
            bool known = false;
            for (int i = 1; i < ids.Length - 1 && !known; i++) known = ids[i] != unkId;
            if (!known) return k;
        }
        return -1;
    }

    /// <summary>Encodes <paramref name="captions"/> with <paramref name="vocabulary"/>.</summary>
    public static EncodedCaptions Encode(IReadOnlyList<string> captions, Vocabulary vocabulary, CancellationToken cancellationToken)
    {
        int n = captions.Count;
        int chunks = Parallelism.ChunkCount(n, 2048);
        var parts = new List<int>[chunks];
        var lengths = new int[n];
        Parallelism.ForEachTask(chunks, c =>
        {
            int start = (int)((long)n * c / chunks), end = (int)((long)n * (c + 1) / chunks);
            var ids = new List<int>((end - start) * 16);
            for (int k = start; k < end; k++)
            {
                if ((k & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
                int before = ids.Count;
                vocabulary.Encode(captions[k], ids);
                lengths[k] = ids.Count - before;
            }
            parts[c] = ids;
        });
        var offsets = new int[n + 1];
        for (int k = 0; k < n; k++) offsets[k + 1] = checked(offsets[k] + lengths[k]);
        var all = new int[offsets[n]];
        int at = 0;
        foreach (var part in parts)
        {
            part.CopyTo(all, at);
            at += part.Count;
        }
        return new EncodedCaptions(all, offsets);
    }
}
