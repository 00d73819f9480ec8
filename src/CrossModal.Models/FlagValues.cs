using System.Reflection;
using System.Text.Json.Serialization;

namespace CrossModal.Models;

/// <summary>Parses an original flag value (e.g. "clipped_l2norm") into the enum member that spells it (its JSON name).</summary>
public static class FlagValues
{
    /// <summary>The member of <typeparamref name="T"/> whose JSON name is <paramref name="value"/>; else one error listing the choices.</summary>
    public static T Parse<T>(string value, string option) where T : struct, Enum
    {
        foreach (var f in typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            string name = f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name;
            if (name == value) return (T)f.GetValue(null)!;
        }
        throw new InvalidDataException($"option '{option}' is '{value}', expected one of {string.Join(", ", ConfigJson.EnumNames(typeof(T)))}.");
    }
}
