namespace CrossModal.Distributed.Autograd;

/// <summary>
/// Which rows of a global tensor each rank holds: rank r holds rows <c>RowsOf(r)</c> (global indices, in its local
/// order) of a tensor with <see cref="GlobalRows"/> rows; together the ranks hold every row once. For items of
/// different lengths ([rows, T, d] tensors whose row j is valid only in its first <c>ValidLengths[j]</c> positions, as
/// a batch of captions of different lengths is), only the valid positions are exchanged and the gathered tensor is
/// padded with zeros to the longest item.
/// </summary>
public sealed class RowLayout
{
    private readonly int[][] _rows;

    /// <summary>A layout: <paramref name="rowsOfRank"/>[r] are rank r's global rows; <paramref name="validLengths"/> (per global row) or null.</summary>
    public RowLayout(int[][] rowsOfRank, int globalRows, int[]? validLengths = null)
    {
        ArgumentNullException.ThrowIfNull(rowsOfRank);
        var seen = new bool[globalRows];
        int total = 0;
        for (int r = 0; r < rowsOfRank.Length; r++)
            foreach (int j in rowsOfRank[r])
            {
                if ((uint)j >= (uint)globalRows) throw new ArgumentException($"Rank {r} holds row {j} of a {globalRows}-row tensor.");
                if (seen[j]) throw new ArgumentException($"Row {j} is held by two ranks.");
                seen[j] = true;
                total++;
            }
        if (total != globalRows) throw new ArgumentException($"The ranks hold {total} of {globalRows} rows.");
        if (validLengths is not null && validLengths.Length != globalRows)
            throw new ArgumentException($"{validLengths.Length} valid lengths for {globalRows} rows.");
        _rows = rowsOfRank;
        GlobalRows = globalRows;
        ValidLengths = validLengths;
        if (validLengths is not null)
        {
            foreach (int l in validLengths)
                if (l < 1) throw new ArgumentException($"A valid length must be at least 1, got {l}.");
            MaxLength = validLengths.Max();
        }
    }

    /// <summary>Number of ranks.</summary>
    public int Ranks => _rows.Length;

    /// <summary>Rows of the global tensor.</summary>
    public int GlobalRows { get; }

    /// <summary>Valid positions of each global row along axis 1, or null when every row is whole.</summary>
    public int[]? ValidLengths { get; }

    /// <summary>The longest valid length (the gathered tensor's axis 1), or 0 without lengths.</summary>
    public int MaxLength { get; }

    /// <summary>Rank <paramref name="rank"/>'s global rows, in its local order.</summary>
    public ReadOnlySpan<int> RowsOf(int rank) => _rows[rank];
}
