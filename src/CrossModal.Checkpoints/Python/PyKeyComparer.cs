using System.Numerics;

namespace CrossModal.Checkpoints.Python;

/// <summary>
/// Python's equality for dictionary keys and set elements: numbers compare by value across bool/int/float
/// (1 == 1.0 == True), strings ordinally, bytes by content, tuples element-wise; other hashable objects (tensors,
/// namespaces, frozensets) by identity. Lists, dicts and sets are unhashable, as in Python: using one as a key is
/// an <see cref="InvalidDataException"/>. Tuple nesting is bounded so a hostile pickle cannot exhaust the stack.
/// </summary>
internal sealed class PyKeyComparer : IEqualityComparer<object?>
{
    /// <summary>Deepest tuple nesting compared or hashed; real checkpoints use one or two levels.</summary>
    internal const int MaxDepth = 64;

    public static PyKeyComparer Instance { get; } = new();

    public new bool Equals(object? x, object? y) => EqualsAt(x, y, 0);

    public int GetHashCode(object? obj) => HashAt(obj, 0);

    private static bool EqualsAt(object? x, object? y, int depth)
    {
        if (depth > MaxDepth) throw TooDeep();
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null) return false;
        if (IsNumber(x) && IsNumber(y)) return NumbersEqual(x, y);
        switch (x)
        {
            case string s: return y is string t && string.Equals(s, t, StringComparison.Ordinal);
            case byte[] bx: return y is byte[] by && bx.AsSpan().SequenceEqual(by);
            case PyTuple tx:
                if (y is not PyTuple ty || tx.Count != ty.Count) return false;
                for (int i = 0; i < tx.Count; i++)
                    if (!EqualsAt(tx[i], ty[i], depth + 1)) return false;
                return true;
            case PyList or PyDict or PySet { IsFrozen: false }: throw Unhashable(x);
            default:
                if (y is PyList or PyDict or PySet { IsFrozen: false }) throw Unhashable(y);
                return false;
        }
    }

    private static int HashAt(object? obj, int depth)
    {
        if (depth > MaxDepth) throw TooDeep();
        switch (obj)
        {
            case null: return 0x5a5a;
            case bool b: return (b ? 1L : 0L).GetHashCode();
            case long l: return l.GetHashCode();
            case BigInteger big: return big.GetHashCode();
            case double d:
                return d == Math.Floor(d) && d >= long.MinValue && d < 9.2233720368547758e18 ? ((long)d).GetHashCode() : d.GetHashCode();
            case string s: return StringComparer.Ordinal.GetHashCode(s);
            case byte[] a:
            {
                var h = new HashCode();
                h.AddBytes(a);
                return h.ToHashCode();
            }
            case PyTuple t:
            {
                var h = new HashCode();
                foreach (var item in t) h.Add(HashAt(item, depth + 1));
                return h.ToHashCode();
            }
            case PyList or PyDict or PySet { IsFrozen: false }: throw Unhashable(obj);
            default: return System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
        }
    }

    private static bool IsNumber(object o) => o is bool or long or double or BigInteger;

    private static bool NumbersEqual(object x, object y)
    {
        if (x is double || y is double) return ToDouble(x) == ToDouble(y);
        return ToBig(x) == ToBig(y);
    }

    private static double ToDouble(object o) => o switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        BigInteger big => (double)big,
        _ => (double)o,
    };

    private static BigInteger ToBig(object o) => o switch
    {
        bool b => b ? BigInteger.One : BigInteger.Zero,
        long l => l,
        _ => (BigInteger)o,
    };

    private static InvalidDataException Unhashable(object o) =>
        new($"unhashable type '{PyValue.TypeName(o)}' used as a dict key or set element");

    private static InvalidDataException TooDeep() =>
        new($"tuples nested deeper than {MaxDepth} levels in a dict key or set element");
}
