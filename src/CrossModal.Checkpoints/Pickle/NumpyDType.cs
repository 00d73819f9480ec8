namespace CrossModal.Checkpoints.Pickle;

/// <summary>A numpy.dtype rebuilt from a pickle, only as far as numpy scalars need it (kind, size, byte order).</summary>
internal sealed class NumpyDType(string code)
{
    /// <summary>The type string given to numpy.dtype, e.g. "f8", "i8", "b1".</summary>
    public string Code { get; } = code;

    /// <summary>'&lt;', '&gt;', '|' or '=' from the pickled state; little-endian until BUILD says otherwise.</summary>
    public char ByteOrder { get; set; } = '<';

    public override string ToString() => $"dtype('{Code}')";
}
