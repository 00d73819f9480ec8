namespace CrossModal.Data.Synthetic;

/// <summary>What <see cref="SyntheticDataset.Generate"/> wrote.</summary>
/// <param name="Directory">The output folder (a SCAN precomp folder).</param>
/// <param name="Splits">Images per split (train, dev, test).</param>
/// <param name="Twins">Images that are attribute-swapped twins of the image before them, per split.</param>
/// <param name="VocabularyPath">The vocabulary built from the train and dev captions.</param>
/// <param name="VocabularySize">Its number of entries.</param>
public sealed record SyntheticSummary(string Directory, IReadOnlyDictionary<string, int> Splits, IReadOnlyDictionary<string, int> Twins,
    string VocabularyPath, int VocabularySize);
