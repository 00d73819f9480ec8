using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace CrossModal.Models;

/// <summary>
/// Everything needed to rebuild a model: its family (<see cref="Model"/>, serialised as <c>"model"</c>) and the
/// family's hyper-parameters, one record per family, named after the original command-line flags (snake_case in
/// JSON: <c>lambda_softmax</c>, <c>cross_attn</c>, ...). Stored as JSON in every checkpoint's metadata, so a
/// checkpoint carries its own configuration; <see cref="FromJson(string, string)"/> asks <see cref="ModelFamilies"/> which record
/// the <c>"model"</c> value names.
/// </summary>
public abstract record ModelConfig
{
    /// <summary>The family's name ("vsepp", "scan", ...): the <c>--model</c> value and the JSON key <c>"model"</c>.</summary>
    [JsonPropertyOrder(-1)]
    public abstract string Model { get; }

    /// <summary>The registered family of <see cref="Model"/>.</summary>
    [JsonIgnore]
    public ModelFamily Family => ModelFamilies.Get(Model);

    /// <summary>Rejects impossible values with one message naming the flag (an <see cref="ArgumentException"/>).</summary>
    public abstract void Validate();

    /// <summary>This configuration with the sizes the data dictates (feature width, vocabulary size, ...).</summary>
    public abstract ModelConfig ForData(DataShape shape);

    /// <summary>Serialises with the original flag names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, GetType(), ConfigJson.Options);

    /// <summary>The configuration as a mutable JSON object (for overlays of command-line values).</summary>
    public JsonObject ToJsonObject() => JsonSerializer.SerializeToNode(this, GetType(), ConfigJson.Options)!.AsObject();

    /// <summary>Parses a configuration written by <see cref="ToJson"/>; errors name <paramref name="source"/>.</summary>
    public static ModelConfig FromJson(string json, string source)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: model configuration is not valid JSON: {e.Message}");
        }
        if (node is not JsonObject obj) throw new InvalidDataException($"{source}: model configuration is not a JSON object.");
        return FromJson(obj, source);
    }

    /// <summary>Parses a configuration object; its <c>"model"</c> value picks the family.</summary>
    public static ModelConfig FromJson(JsonObject json, string source)
    {
        string? name = json["model"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        if (name is null) throw new InvalidDataException($"{source}: model configuration has no \"model\" name (expected one of {ModelFamilies.NameList}).");
        if (!ModelFamilies.TryGet(name, out var family))
            throw new InvalidDataException($"{source}: unknown model '{name}' (expected one of {ModelFamilies.NameList}).");
        try
        {
            return (ModelConfig)(json.Deserialize(family.ConfigType, ConfigJson.Options)
                ?? throw new InvalidDataException($"{source}: empty model configuration."));
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: the {name} configuration is not valid: {e.Message}");
        }
    }

    /// <summary>Throws an <see cref="ArgumentException"/> with <paramref name="message"/> unless <paramref name="ok"/>.</summary>
    protected static void Need(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message);
    }
}
