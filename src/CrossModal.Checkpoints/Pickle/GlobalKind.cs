namespace CrossModal.Checkpoints.Pickle;

/// <summary>What an allow-listed pickle global stands for; the unpickler implements each one itself.</summary>
internal enum GlobalKind
{
    OrderedDict,
    Dict,
    Namespace,
    RebuildTensor,
    RebuildTensorV2,
    RebuildParameter,
    RebuildParameterWithState,
    RebuildFromTypeV2,
    TensorClass,
    ParameterClass,
    Storage,
    Set,
    FrozenSet,
    Bytes,
    ByteArray,
    Object,
    Reconstructor,
    CodecsEncode,
    NumpyScalar,
    NumpyDType,

    /// <summary>A class the caller declared inert: instances only hold attributes.</summary>
    Inert,
}
