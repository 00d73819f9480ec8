using CrossModal.Tensors;

namespace CrossModal.Models.Vsrn;

/// <summary>
/// The keep-masks of VSRN's two captioning dropouts (inverted dropout: an element is kept with probability 1 - p
/// and scaled by 1 / (1 - p)), drawn from the model's own generator (<see cref="RetrievalModel.Noise"/>), whose state
/// every checkpoint stores, so a resumed run draws the same masks. Masks are requested in a fixed order (the
/// encoder's, then one per decoder step for its active rows), which is what makes the stream reproducible.
/// </summary>
internal sealed class DropoutMasks
{
    private readonly Rng _rng;

    public DropoutMasks(float p, Rng rng)
    {
        if (p is < 0f or >= 1f) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1).");
        P = p;
        _rng = rng;
    }

    /// <summary>Probability of dropping an element.</summary>
    public float P { get; }

    /// <summary>
    /// Test hook: keep-masks (1 keep, 0 drop) used in request order instead of drawing, so that the masks PyTorch drew
    /// for a fixture can be replayed. Null in normal use.
    /// </summary>
    internal Queue<float[]>? Given { get; set; }

    /// <summary>Fills <paramref name="mask"/> with 0 or 1 / (1 - p) per element.</summary>
    public void Fill(Span<float> mask)
    {
        float scale = 1f / (1f - P);
        if (Given is { } given)
        {
            var keep = given.Count > 0 ? given.Dequeue() : throw new InvalidOperationException("No given dropout mask left.");
            if (keep.Length != mask.Length) throw new InvalidOperationException($"A given dropout mask has {keep.Length} elements, {mask.Length} were requested.");
            for (int i = 0; i < mask.Length; i++) mask[i] = keep[i] * scale;
            return;
        }
        for (int i = 0; i < mask.Length; i++) mask[i] = _rng.NextFloat() < P ? 0f : scale;
    }

    /// <summary>
    /// Data-parallel training: draws the mask of all <paramref name="globalRows"/> rows of <paramref name="rowLength"/>
    /// elements, exactly as <see cref="Fill"/> draws it for the whole global batch in one process, and keeps the
    /// rows <paramref name="rows"/> (this rank's, ascending) in <paramref name="mask"/>. Every rank draws the whole
    /// mask, so the ranks' masks are slices of one process's and the generator's state stays the same on every rank.
    /// </summary>
    public void FillRows(Span<float> mask, int rowLength, ReadOnlySpan<int> rows, int globalRows)
    {
        if (mask.Length != rows.Length * rowLength)
            throw new ArgumentException($"A dropout mask of {mask.Length} elements for {rows.Length} rows of {rowLength}.");
        if (Given is not null) throw new InvalidOperationException("Given dropout masks replay one process's batch; they do not apply to a rank's rows.");
        float scale = 1f / (1f - P);
        int k = 0;
        for (int g = 0; g < globalRows; g++)
        {
            bool mine = k < rows.Length && rows[k] == g;
            var dst = mine ? mask.Slice(k * rowLength, rowLength) : Span<float>.Empty;
            for (int j = 0; j < rowLength; j++)
            {
                float v = _rng.NextFloat() < P ? 0f : scale;
                if (mine) dst[j] = v;
            }
            if (mine) k++;
        }
        if (k != rows.Length) throw new ArgumentException($"Rows {string.Join(", ", rows.ToArray())} are not ascending rows of a global batch of {globalRows}.");
    }
}
