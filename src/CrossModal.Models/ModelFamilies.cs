using System.Diagnostics.CodeAnalysis;
using CrossModal.Models.Files;
using CrossModal.Models.Naaf;
using CrossModal.Models.Scan;
using CrossModal.Models.Vse;
using CrossModal.Models.Vsrn;

namespace CrossModal.Models;

/// <summary>
/// The registry: every model family, one line each. Adding a family is its folder plus one line here. The order
/// matters once: original checkpoints are offered to the families in this order and the first that recognises one
/// imports it, so a family derived from another one's code (IMRAM and NAAF from SCAN) comes before it.
/// </summary>
public static class ModelFamilies
{
    private static readonly object Gate = new();

    private static ModelFamily[] Registered =
    [
        new NaafFamily(),
        new ScanFamily(),
        new VsrnFamily(), // before VSE++: VSRN's train.py has VSE++'s options (measure, ...) too
        new VseFamily(),
    ];

    /// <summary>The family `crossmodal train` uses when neither --model nor --preset names one (the originals' default).</summary>
    public static ModelFamily Default => Get(VseFamily.FamilyName);

    /// <summary>Every family, in registration order.</summary>
    public static IReadOnlyList<ModelFamily> All => Registered;

    /// <summary>"vsepp, scan, ..." for messages.</summary>
    public static string NameList => string.Join(", ", Registered.Select(f => f.Name));

    /// <summary>The family called <paramref name="name"/>, if registered.</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out ModelFamily? family)
    {
        family = Registered.FirstOrDefault(f => f.Name == name);
        return family is not null;
    }

    /// <summary>The family called <paramref name="name"/>; an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    public static ModelFamily Get(string name) =>
        TryGet(name, out var f) ? f : throw new ArgumentException($"Unknown model '{name}' (expected one of {NameList}).");

    /// <summary>Every preset of every family.</summary>
    public static IEnumerable<Preset> Presets => Registered.SelectMany(f => f.Presets);

    /// <summary>The first family that recognises an original checkpoint, or null.</summary>
    public static ModelFamily? Recognize(OriginalCheckpoint checkpoint) => Registered.FirstOrDefault(f => f.Recognizes(checkpoint));

    /// <summary>Adds a family (tests register families of their own; the product's families are listed above).</summary>
    internal static void Register(ModelFamily family)
    {
        lock (Gate)
        {
            if (TryGet(family.Name, out var known))
            {
                if (known.GetType() == family.GetType()) return;
                throw new ArgumentException($"A family named '{family.Name}' is already registered.");
            }
            Registered = [.. Registered, family];
        }
    }
}
