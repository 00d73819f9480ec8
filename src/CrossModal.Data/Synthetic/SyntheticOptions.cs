namespace CrossModal.Data.Synthetic;

/// <summary>Settings of the built-in demo dataset (see <see cref="SyntheticDataset"/>).</summary>
public sealed record SyntheticOptions
{
    /// <summary>Images over all splits.</summary>
    public int Images { get; init; } = 1000;

    /// <summary>Seed: the same seed and options give byte-identical files.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Dev images; default 10% of <see cref="Images"/> (at least 1).</summary>
    public int? DevImages { get; init; }

    /// <summary>Test images; default 10% of <see cref="Images"/> (at least 1).</summary>
    public int? TestImages { get; init; }

    /// <summary>Regions per image (36 like bottom-up-attention features; at least 5).</summary>
    public int Regions { get; init; } = 36;

    /// <summary>
    /// Feature size per region. 256 keeps the first layer of a SCAN-style model cheap (36 x 256 floats = 36 KB per
    /// image), so a demo trains in minutes on two cores.
    /// </summary>
    public int FeatureDim { get; init; } = 256;

    /// <summary>Write one global feature per image (the mean of its regions, N x D) instead of N x R x D regions.</summary>
    public bool GlobalFeatures { get; init; }

    /// <summary>Standard deviation of the noise vector's norm relative to an attribute embedding (norm 1).</summary>
    public float Noise { get; init; } = 0.5f;

    /// <summary>Probability that a scene with two or more objects is followed by its attribute-swapped twin.</summary>
    public double TwinFraction { get; init; } = 0.5;

    /// <summary>Write PNG renderings of the scenes to images/.</summary>
    public bool RenderImages { get; init; } = true;

    /// <summary>Side of the square PNG renderings in pixels.</summary>
    public int ImageSize { get; init; } = 192;

    /// <summary>Count threshold of the vocabulary built from the train and dev captions (SCAN's default 4).</summary>
    public int VocabularyThreshold { get; init; } = 4;
}
