using System.Text.Json;

namespace CrossModal.Models.Objectives;

/// <summary>
/// How a model is optimised, with the originals' flag names and the defaults of VSE++/SCAN's train.py (batch 128,
/// Adam lr 2e-4 decayed x0.1 every 15 epochs, 30 epochs, clipping at total norm 2.0, margin 0.2). A family's
/// <see cref="ModelFamily.DefaultRecipe"/> and presets start from here.
/// </summary>
public sealed record TrainingRecipe
{
    /// <summary>--batch_size.</summary>
    [Flag("captions (pairs) per batch")]
    public int BatchSize { get; init; } = 128;

    /// <summary>--learning_rate.</summary>
    [Flag("Adam learning rate")]
    public float LearningRate { get; init; } = 2e-4f;

    /// <summary>--lr_update: epochs between x0.1 decays.</summary>
    [Flag("epochs between learning-rate decays (x0.1)")]
    public int LrUpdate { get; init; } = 15;

    /// <summary>--num_epochs.</summary>
    [Flag("epochs")]
    public int NumEpochs { get; init; } = 30;

    /// <summary>--grad_clip (total L2 norm; 0 disables).</summary>
    [Flag("gradient clipping by total L2 norm (0 = off)")]
    public float GradClip { get; init; } = 2f;

    /// <summary>--margin of the hinge loss.</summary>
    [Flag("hinge margin")]
    public float Margin { get; init; } = 0.2f;

    /// <summary>--max_violation: hardest negative (VSE++) instead of the sum of hinges.</summary>
    [Flag("hardest negative (VSE++); false gives the sum of hinges")]
    public bool MaxViolation { get; init; }

    /// <summary>Epochs of sum-of-hinges before switching to max violation (VSE-infinity's warm-up; 0 = the originals).</summary>
    [Flag("epochs of sum-of-hinges before max violation (VSE-infinity style)")]
    public int WarmupEpochs { get; init; }

    /// <summary>--val_step: validate every N iterations as well as at the end of each epoch (0 = epoch ends only).</summary>
    [Flag("also validate every N iterations (0 = only at epoch ends)")]
    public int ValStep { get; init; }

    /// <summary>Whether the hinge loss takes the hardest negative in 0-based <paramref name="epoch"/>.</summary>
    public bool MaxViolationAt(int epoch) => MaxViolation && epoch >= WarmupEpochs;

    /// <summary>Rejects impossible values with one message naming the flag.</summary>
    public void Validate()
    {
        static void Need(bool ok, string m) { if (!ok) throw new ArgumentException(m); }
        Need(BatchSize >= 2, $"--batch-size must be at least 2 (the loss needs negatives), got {BatchSize}.");
        Need(LearningRate > 0, $"--learning-rate must be positive, got {LearningRate}.");
        Need(LrUpdate > 0, $"--lr-update must be positive, got {LrUpdate}.");
        Need(NumEpochs > 0, $"--num-epochs must be positive, got {NumEpochs}.");
        Need(GradClip >= 0, $"--grad-clip must not be negative, got {GradClip}.");
        Need(WarmupEpochs >= 0, $"--warmup-epochs must not be negative, got {WarmupEpochs}.");
        Need(ValStep >= 0, $"--val-step must not be negative, got {ValStep}.");
    }

    /// <summary>Serialised with the original flag names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ConfigJson.Options);
}
