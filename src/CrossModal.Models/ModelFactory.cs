using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Tensors;

namespace CrossModal.Models;

/// <summary>Builds the model a configuration describes.</summary>
public static class ModelFactory
{
    /// <summary>A freshly initialised model for <paramref name="config"/>.</summary>
    public static MatchingModel Create(ModelConfig config, Rng rng) => config.Model switch
    {
        "vsepp" => new VseModel(config, rng),
        "scan" => new ScanModel(config, rng),
        _ => throw new ArgumentException($"Unknown model '{config.Model}' (expected vsepp or scan)."),
    };
}
