using System.Globalization;
using System.Numerics;
using System.Text.Json;
using CrossModal.Checkpoints.Python;
using CrossModal.Checkpoints.Torch;

namespace CrossModal.Checkpoints.Tests.Support;

/// <summary>
/// Asserts that a loaded value matches the JSON description the fixture script wrote with Python's own view of
/// the object ({"int": "..."}, {"float": repr}, {"list": [...]}, {"ordered_dict": [[k, v], ...]}, {"tensor": ...}).
/// </summary>
internal static class PyExpect
{
    public static void Matches(JsonElement expected, object? actual, string path = "$")
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Null:
                Assert.True(actual is null, $"{path}: expected None, got {PyValue.Describe(actual)}");
                return;
            case JsonValueKind.True or JsonValueKind.False:
                Assert.True(actual is bool b && b == expected.GetBoolean(), $"{path}: expected {expected}, got {PyValue.Describe(actual)}");
                return;
            case JsonValueKind.String:
                Assert.True(actual is string s && s == expected.GetString(), $"{path}: expected '{expected.GetString()}', got {PyValue.Describe(actual)}");
                return;
        }
        var prop = expected.EnumerateObject().Single();
        var v = prop.Value;
        switch (prop.Name)
        {
            case "int":
            {
                var want = BigInteger.Parse(v.GetString()!, CultureInfo.InvariantCulture);
                BigInteger? got = actual switch { long l => l, BigInteger big => big, _ => null };
                Assert.True(got == want, $"{path}: expected int {want}, got {PyValue.Describe(actual)} ({PyValue.TypeName(actual)})");
                if (want >= long.MinValue && want <= long.MaxValue) Assert.IsType<long>(actual);
                return;
            }
            case "float":
            {
                double want = ParseFloat(v.GetString()!);
                Assert.True(actual is double d && (d.Equals(want)), $"{path}: expected float {want:R}, got {PyValue.Describe(actual)}");
                return;
            }
            case "bytes":
            {
                var want = v.EnumerateArray().Select(x => (byte)x.GetInt32()).ToArray();
                var got = Assert.IsType<byte[]>(actual);
                Assert.Equal(want, got);
                return;
            }
            case "list" or "tuple":
            {
                IReadOnlyList<object?> items = prop.Name == "list" ? Assert.IsType<PyList>(actual) : Assert.IsType<PyTuple>(actual);
                var want = v.EnumerateArray().ToList();
                Assert.True(want.Count == items.Count, $"{path}: expected {want.Count} items, got {items.Count}");
                for (int i = 0; i < want.Count; i++) Matches(want[i], items[i], $"{path}[{i}]");
                return;
            }
            case "dict" or "ordered_dict":
            {
                var dict = Assert.IsType<PyDict>(actual);
                Assert.True(dict.IsOrdered == (prop.Name == "ordered_dict"), $"{path}: expected a {prop.Name}, got {PyValue.TypeName(dict)}");
                var want = v.EnumerateArray().ToList();
                Assert.True(want.Count == dict.Count, $"{path}: expected {want.Count} entries, got {dict.Count}");
                for (int i = 0; i < want.Count; i++)
                {
                    Matches(want[i][0], dict.Keys[i], $"{path}.key[{i}]");
                    Matches(want[i][1], dict.Values[i], $"{path}[{PyValue.Describe(dict.Keys[i])}]");
                }
                return;
            }
            case "namespace":
            {
                var ns = Assert.IsType<PyNamespace>(actual);
                var want = v.EnumerateArray().ToList();
                Assert.Equal(want.Select(w => w[0].GetString()!).ToList(), ns.Keys.ToList());
                foreach (var w in want) Matches(w[1], ns[w[0].GetString()!], $"{path}.{w[0].GetString()}");
                return;
            }
            case "set" or "frozenset":
            {
                var set = Assert.IsType<PySet>(actual);
                Assert.Equal(prop.Name == "frozenset", set.IsFrozen);
                var want = v.EnumerateArray().Select(Scalar).ToList();
                Assert.Equal(want.Count, set.Count);
                foreach (var w in want) Assert.True(set.Contains(w), $"{path}: set lacks {PyValue.Describe(w)}");
                return;
            }
            case "tensor":
            {
                var t = Assert.IsType<TorchTensor>(actual);
                Assert.Equal(v.GetProperty("dtype").GetString(), t.DType);
                Assert.Equal(v.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(), t.Shape);
                Assert.Equal(v.GetProperty("requires_grad").GetBoolean(), t.RequiresGrad);
                Assert.Equal(v.GetProperty("parameter").GetBoolean(), t.IsParameter);
                var want = v.GetProperty("values").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
                Assert.Equal(want, t.Value.ToArray());
                return;
            }
            default:
                throw new InvalidOperationException($"{path}: unknown description kind '{prop.Name}'");
        }
    }

    private static object? Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => e.EnumerateObject().Single() switch
        {
            { Name: "int" } p => PythonInt(p.Value.GetString()!),
            { Name: "float" } p => ParseFloat(p.Value.GetString()!),
            var p => throw new InvalidOperationException($"set element of kind {p.Name}"),
        },
    };

    private static object PythonInt(string s)
    {
        var big = BigInteger.Parse(s, CultureInfo.InvariantCulture);
        return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
    }

    private static double ParseFloat(string repr) => repr switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.Parse(repr, CultureInfo.InvariantCulture),
    };
}
