namespace CrossModal.Models;

/// <summary>
/// Marks a configuration or recipe property as a command-line flag of the original code: the JSON name of the
/// property (its <c>JsonPropertyName</c>, the original flag's name, e.g. <c>lambda_softmax</c>) becomes the option
/// <c>--lambda-softmax</c>, with this description. Enum-typed properties offer their members' JSON names as the
/// only choices. The command line is built from these attributes, so a family's options live in its config record.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FlagAttribute(string description) : Attribute
{
    /// <summary>Help text for the option.</summary>
    public string Description { get; } = description;
}
