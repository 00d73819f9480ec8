using CrossModal.Models.Objectives;

namespace CrossModal.Models;

/// <summary>
/// A published setting of a family (a paper's command line): changes to the family's default configuration and
/// training recipe, applied before explicit command-line options.
/// </summary>
/// <param name="Name">The <c>--preset</c> value, unique across families (e.g. "scan-t2i-avg").</param>
/// <param name="Description">One line for the help text (what the paper ran).</param>
/// <param name="Family">The family the preset belongs to.</param>
/// <param name="Config">Changes to the family's default configuration.</param>
/// <param name="Recipe">Changes to the family's default recipe.</param>
public sealed record Preset(string Name, string Description, string Family, Func<ModelConfig, ModelConfig> Config, Func<TrainingRecipe, TrainingRecipe> Recipe)
{
    /// <summary>A preset of a family whose configuration record is <typeparamref name="TConfig"/>.</summary>
    public static Preset For<TConfig>(string family, string name, string description, Func<TConfig, TConfig> config,
        Func<TrainingRecipe, TrainingRecipe>? recipe = null) where TConfig : ModelConfig =>
        new(name, description, family, c => config((TConfig)c), recipe ?? (r => r));
}
