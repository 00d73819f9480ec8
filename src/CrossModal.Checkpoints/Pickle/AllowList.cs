using CrossModal.Checkpoints.Torch;

namespace CrossModal.Checkpoints.Pickle;

/// <summary>
/// The only globals a checkpoint pickle may name. Everything here is re-implemented by the unpickler (no
/// reflection, no Python semantics beyond building data); any other name is an error that quotes it, so a
/// pickle naming <c>posix.system</c> or <c>builtins.eval</c> is refused before anything happens.
/// Python 2 module names (<c>__builtin__</c>, <c>copy_reg</c>) map to their Python 3 names, as Python's own
/// unpickler does; <c>torch.cuda.*Storage</c> (GPU checkpoints) reads like the CPU storage types.
/// </summary>
internal static class AllowList
{
    private static readonly Dictionary<(string Module, string Name), GlobalKind> Functions = new()
    {
        [("collections", "OrderedDict")] = GlobalKind.OrderedDict,
        [("builtins", "dict")] = GlobalKind.Dict,
        [("argparse", "Namespace")] = GlobalKind.Namespace,
        [("torch._utils", "_rebuild_tensor")] = GlobalKind.RebuildTensor,
        [("torch._utils", "_rebuild_tensor_v2")] = GlobalKind.RebuildTensorV2,
        [("torch._utils", "_rebuild_parameter")] = GlobalKind.RebuildParameter,
        [("torch._utils", "_rebuild_parameter_with_state")] = GlobalKind.RebuildParameterWithState,
        [("torch._tensor", "_rebuild_from_type_v2")] = GlobalKind.RebuildFromTypeV2,
        [("torch", "Tensor")] = GlobalKind.TensorClass,
        [("torch._tensor", "Tensor")] = GlobalKind.TensorClass,
        [("torch.nn.parameter", "Parameter")] = GlobalKind.ParameterClass,
        [("builtins", "set")] = GlobalKind.Set,
        [("builtins", "frozenset")] = GlobalKind.FrozenSet,
        [("builtins", "bytes")] = GlobalKind.Bytes,
        [("builtins", "bytearray")] = GlobalKind.ByteArray,
        [("builtins", "object")] = GlobalKind.Object,
        [("copyreg", "_reconstructor")] = GlobalKind.Reconstructor,
        [("_codecs", "encode")] = GlobalKind.CodecsEncode,
        [("numpy.core.multiarray", "scalar")] = GlobalKind.NumpyScalar,
        [("numpy._core.multiarray", "scalar")] = GlobalKind.NumpyScalar,
        [("numpy", "dtype")] = GlobalKind.NumpyDType,
    };

    /// <summary>The allow-listed global <paramref name="module"/>.<paramref name="name"/>, or null.</summary>
    public static PyGlobal? Resolve(string module, string name)
    {
        string m = module switch
        {
            "__builtin__" => "builtins",
            "copy_reg" => "copyreg",
            _ => module,
        };
        if (Functions.TryGetValue((m, name), out var kind)) return new PyGlobal(m, name, kind);
        if (m is "torch" or "torch.cuda" && TorchDType.FromStorageClass(name) is { } dtype && dtype != TorchDType.Untyped)
            return new PyGlobal(m, name, GlobalKind.Storage, dtype);
        if ((m, name) is ("torch", "UntypedStorage") or ("torch.storage", "UntypedStorage"))
            return new PyGlobal(m, name, GlobalKind.Storage, TorchDType.Untyped);
        return null;
    }

    /// <summary>The message for a refused global.</summary>
    public static string Refusal(string module, string name) =>
        $"global '{module}.{name}' is not allowed: a checkpoint may only name OrderedDict, argparse.Namespace, the torch tensor/storage " +
        "rebuild functions and storage types, numpy scalars, set/frozenset/bytes; nothing else is reconstructed or executed";
}
