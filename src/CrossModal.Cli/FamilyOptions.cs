using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrossModal.Models;
using CrossModal.Models.Objectives;

namespace CrossModal.Cli;

/// <summary>
/// The command-line options of every model family and of the training recipe, built from the
/// <see cref="FlagAttribute"/> properties of their records: a record's JSON name (the original flag, e.g.
/// <c>lambda_softmax</c>) becomes <c>--lambda-softmax</c>. Families that share a flag share the option; its help
/// lists each family's default. Given values are laid over a configuration as JSON, so a family's record is the
/// only place its options are spelled.
/// </summary>
internal sealed class FamilyOptions
{
    private readonly List<Entry> _config = new();
    private readonly List<Entry> _recipe = new();

    private sealed record Entry(string JsonName, Option Option, Type Type);

    public FamilyOptions(IReadOnlyList<ModelFamily> families)
    {
        foreach (var group in families.SelectMany(f => Flags(f.ConfigType).Select(p => (Family: f, Property: p))).GroupBy(x => ConfigJson.NameOf(x.Property)))
        {
            var first = group.First().Property;
            var defaults = group.Select(x => (x.Family.Name, Value: Format(x.Property.GetValue(x.Family.DefaultConfig)))).ToList();
            string shown = defaults.Select(d => d.Value).Distinct().Count() == 1 ? defaults[0].Value
                : string.Join(", ", defaults.Select(d => $"{d.Name} {d.Value}"));
            string who = group.Count() == families.Count ? "" : $"[{string.Join(", ", group.Select(x => x.Family.Name))}] ";
            _config.Add(Make(group.Key, first, $"{who}{first.GetCustomAttribute<FlagAttribute>()!.Description} (default: {shown})"));
        }
        foreach (var p in Flags(typeof(TrainingRecipe)))
        {
            var defaults = families.Select(f => (f.Name, Value: Format(p.GetValue(f.DefaultRecipe)))).ToList();
            string shown = defaults.Select(d => d.Value).Distinct().Count() == 1 ? defaults[0].Value
                : string.Join(", ", defaults.Select(d => $"{d.Name} {d.Value}"));
            _recipe.Add(Make(ConfigJson.NameOf(p), p, $"{p.GetCustomAttribute<FlagAttribute>()!.Description} (default: {shown})"));
        }
    }

    /// <summary>Every option, configuration first, then recipe.</summary>
    public IEnumerable<Option> All => _config.Concat(_recipe).Select(e => e.Option);

    /// <summary>
    /// <paramref name="config"/> with the configuration options given on the command line; an option the family does
    /// not have is an error naming the family's options.
    /// </summary>
    public ModelConfig Apply(ParseResult parse, ModelConfig config)
    {
        var json = config.ToJsonObject();
        var own = Flags(config.GetType()).Select(ConfigJson.NameOf).ToHashSet();
        foreach (var e in _config)
        {
            if (!Given(parse, e.Option)) continue;
            if (!own.Contains(e.JsonName))
                throw new CliException($"{e.Option.Name} is not an option of model '{config.Model}' (its options: {string.Join(", ", _config.Where(x => own.Contains(x.JsonName)).Select(x => x.Option.Name))}).");
            json[e.JsonName] = Value(parse, e);
        }
        return ModelConfig.FromJson(json, "the command line");
    }

    /// <summary><paramref name="recipe"/> with the recipe options given on the command line.</summary>
    public TrainingRecipe Apply(ParseResult parse, TrainingRecipe recipe)
    {
        var json = JsonSerializer.SerializeToNode(recipe, ConfigJson.Options)!.AsObject();
        foreach (var e in _recipe)
            if (Given(parse, e.Option)) json[e.JsonName] = Value(parse, e);
        return json.Deserialize<TrainingRecipe>(ConfigJson.Options)!;
    }

    /// <summary>Whether the user typed <paramref name="option"/> (not just its default).</summary>
    public static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    private static IEnumerable<PropertyInfo> Flags(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetCustomAttribute<FlagAttribute>() is not null)
            .OrderBy(p => p.MetadataToken);

    private static Entry Make(string jsonName, PropertyInfo p, string description)
    {
        string name = "--" + jsonName.Replace('_', '-').ToLowerInvariant();
        var t = p.PropertyType;
        Option option;
        if (t == typeof(bool)) option = new Option<bool>(name) { Description = description };
        else if (t == typeof(int)) option = new Option<int>(name) { Description = description };
        else if (t == typeof(float)) option = new Option<float>(name) { Description = description };
        else if (t == typeof(string)) option = new Option<string>(name) { Description = description }; // free text (VSRN's data_name)
        else if (t.IsEnum)
        {
            var choices = ConfigJson.EnumNames(t).ToArray();
            var o = new Option<string>(name) { Description = description };
            o.AcceptOnlyFromAmong(choices);
            option = o;
        }
        else throw new InvalidOperationException($"Flag {p.DeclaringType!.Name}.{p.Name} has type {t.Name}, which has no option kind.");
        return new Entry(jsonName, option, t);
    }

    private static JsonNode? Value(ParseResult parse, Entry e) => e.Option switch
    {
        Option<bool> b => JsonValue.Create(parse.GetValue(b)),
        Option<int> i => JsonValue.Create(parse.GetValue(i)),
        Option<float> f => JsonValue.Create(parse.GetValue(f)),
        Option<string> s => JsonValue.Create(parse.GetValue(s)),
        _ => throw new InvalidOperationException($"Unexpected option {e.Option.Name}."),
    };

    private static string Format(object? value) => value switch
    {
        null => "none",
        bool b => b ? "on" : "off",
        float f => f.ToString("G", CultureInfo.InvariantCulture),
        Enum e => ConfigJson.EnumName(e),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
