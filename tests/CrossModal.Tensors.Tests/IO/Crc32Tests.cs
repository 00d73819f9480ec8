using CrossModal.Tensors.IO;

namespace CrossModal.Tensors.Tests;

public class Crc32Tests
{
    [Fact]
    public void Should_GiveThePublishedCheckValues()
    {
        // The CRC-32/ISO-HDLC check value, and the CRC every PNG's IEND chunk carries.
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0xAE426082u, Crc32.Compute("IEND"u8));
        Assert.Equal(Crc32.Compute("123456789"u8), Crc32.Append(Crc32.Compute("1234"u8), "56789"u8));
    }
}
