using CrossModal.Models.Attention;

namespace CrossModal.Models.Imram;

/// <summary>The settings of IMRAM's iterative matching (HuiChen24/IMRAM opts.py), as the scorer needs them.</summary>
/// <param name="Mode">--model_mode: which directions are scored.</param>
/// <param name="IterationStep">--iteration_step K: attention steps per direction (at least 1).</param>
/// <param name="LambdaSoftmax">--lambda_softmax: inverse temperature of the attention softmax.</param>
/// <param name="RawFeatureNorm">--raw_feature_norm: normalisation of the raw similarities across the query axis.</param>
/// <param name="NormalizeQuery">The opposite of --no_IMRAM_norm: L2-normalise the query after each memory update.</param>
public sealed record ImramOptions(ImramMode Mode, int IterationStep, float LambdaSoftmax, RawFeatureNorm RawFeatureNorm, bool NormalizeQuery)
{
    /// <summary>Options from a configuration.</summary>
    public static ImramOptions From(ImramConfig c) => new(c.ModelMode, c.IterationStep, c.LambdaSoftmax, c.RawFeatureNorm, !c.NoImramNorm);

    /// <summary>Whether words attend to regions (text_IMRAM, full_IMRAM).</summary>
    public bool TextToImage => Mode is ImramMode.TextImram or ImramMode.FullImram;

    /// <summary>Whether regions attend to words (image_IMRAM, full_IMRAM).</summary>
    public bool ImageToText => Mode is ImramMode.ImageImram or ImramMode.FullImram;
}
