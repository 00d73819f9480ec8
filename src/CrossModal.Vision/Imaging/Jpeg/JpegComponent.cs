namespace CrossModal.Vision.Imaging.Jpeg;

/// <summary>One colour component of a JPEG frame: sampling factors, its coefficient blocks and scan state.</summary>
internal sealed class JpegComponent
{
    public required int Id { get; init; }
    public required int H { get; init; }
    public required int V { get; init; }
    public required int QuantTableIndex { get; init; }

    /// <summary>Real size of the (possibly subsampled) component: ceil(image size * factor / max factor).</summary>
    public int Width { get; set; }
    public int Height { get; set; }

    /// <summary>Blocks covering the real size (what a non-interleaved scan codes).</summary>
    public int WidthInBlocks { get; set; }
    public int HeightInBlocks { get; set; }

    /// <summary>Blocks allocated: whole MCUs (what an interleaved scan codes).</summary>
    public int BlocksPerLine { get; set; }
    public int BlocksPerColumn { get; set; }

    /// <summary>64 coefficients per block in natural (row-major) order, blocks row-major.</summary>
    public short[] Coefficients { get; set; } = Array.Empty<short>();

    /// <summary>The quantization table latched when the component's first scan starts (libjpeg does the same).</summary>
    public ushort[]? Quant { get; set; }

    public int DcPredictor { get; set; }
    public int DcTable { get; set; }
    public int AcTable { get; set; }
}
