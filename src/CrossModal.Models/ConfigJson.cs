using System.Text.Json;
using System.Text.Json.Serialization;

namespace CrossModal.Models;

/// <summary>
/// The JSON settings of configurations and recipes: snake_case names (the original flags), enums as the original
/// spells them (their <c>JsonStringEnumMemberName</c>), unknown keys ignored so that files written by other
/// versions still open.
/// </summary>
public static class ConfigJson
{
    /// <summary>The shared serializer options.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The JSON name of a property (its JsonPropertyName, else the snake_case of its name).</summary>
    public static string NameOf(System.Reflection.PropertyInfo property) =>
        property.GetCustomAttributes(typeof(JsonPropertyNameAttribute), true) is [JsonPropertyNameAttribute a, ..]
            ? a.Name
            : JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);

    /// <summary>The JSON spelling of one enum value (e.g. "clipped_l2norm").</summary>
    public static string EnumName(Enum value)
    {
        var f = value.GetType().GetField(value.ToString(), System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static);
        return f?.GetCustomAttributes(typeof(JsonStringEnumMemberNameAttribute), false) is [JsonStringEnumMemberNameAttribute a, ..] ? a.Name : value.ToString();
    }

    /// <summary>The JSON spellings of an enum's members, in declaration order.</summary>
    public static IReadOnlyList<string> EnumNames(Type enumType) =>
        enumType.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(f => f.GetCustomAttributes(typeof(JsonStringEnumMemberNameAttribute), false) is [JsonStringEnumMemberNameAttribute a, ..] ? a.Name : f.Name)
            .ToList();
}
