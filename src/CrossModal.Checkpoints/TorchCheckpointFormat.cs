namespace CrossModal.Checkpoints;

/// <summary>How a PyTorch checkpoint file was serialised.</summary>
public enum TorchCheckpointFormat
{
    /// <summary>torch &gt;= 1.6 default: a zip archive with <c>&lt;folder&gt;/data.pkl</c> and one entry per storage.</summary>
    Zip,

    /// <summary>
    /// torch &lt; 1.6 (and <c>_use_new_zipfile_serialization=False</c>): magic-number, protocol and sys-info pickles,
    /// the object pickle, the storage-key list, then the raw storages. What the 2018-2019 repositories wrote.
    /// </summary>
    Legacy,
}
