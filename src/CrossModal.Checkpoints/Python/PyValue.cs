using System.Numerics;
using CrossModal.Checkpoints.Torch;

namespace CrossModal.Checkpoints.Python;

/// <summary>
/// The .NET types a pickle's values become: None = null, bool, int = <see cref="long"/> (or
/// <see cref="BigInteger"/> beyond 64 bits), float = <see cref="double"/>, str = <see cref="string"/>,
/// bytes/bytearray = byte[], list = <see cref="PyList"/>, tuple = <see cref="PyTuple"/>, dict and
/// collections.OrderedDict = <see cref="PyDict"/>, set/frozenset = <see cref="PySet"/>, argparse.Namespace =
/// <see cref="PyNamespace"/>, torch tensors and parameters = <see cref="TorchTensor"/>, instances of classes declared
/// inert (<see cref="PickleFile"/>) = <see cref="PyObject"/>.
/// </summary>
public static class PyValue
{
    /// <summary>The Python type name of a loaded value, for messages ("int", "str", "OrderedDict", "Tensor", ...).</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        PyList => "list",
        PyTuple => "tuple",
        PyDict d => d.IsOrdered ? "OrderedDict" : "dict",
        PySet s => s.IsFrozen ? "frozenset" : "set",
        PyNamespace => "Namespace",
        PyObject o => o.ClassName,
        TorchTensor t => t.IsParameter ? "Parameter" : "Tensor",
        TorchStorage s => s.DType.StorageClass,
        Pickle.PyGlobal g => $"reference to {g.FullName}",
        Pickle.NumpyDType => "numpy.dtype",
        _ => value.GetType().Name,
    };

    /// <summary>A short, bounded description of a value for error messages (strings quoted, containers sized).</summary>
    public static string Describe(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => "'" + (s.Length > 60 ? s[..60] + "..." : s) + "'",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        long or BigInteger => value.ToString()!,
        TorchTensor t => t.ToString(),
        byte[] b => $"bytes of length {b.Length}",
        PyDict d => $"{TypeName(d)} of {d.Count} entries",
        PyNamespace n => $"Namespace of {n.Count} attributes",
        IReadOnlyCollection<object?> c => $"{TypeName(value)} of {c.Count} items",
        _ => TypeName(value),
    };
}
