using CrossModal.Checkpoints;

namespace CrossModal.Models.Files;

/// <summary>
/// A model checkpoint written by an original PyTorch code base (<c>model_best.pth.tar</c> of VSE++, SCAN, ...; zip
/// or legacy serialisation, read without executing anything): the original options (<c>opt</c>), the weights as
/// the <c>model</c> entry holds them (a list <c>[img_sd, txt_sd]</c> or one dict), and the bookkeeping values. Which
/// family wrote it is recognised from its options and weights (<see cref="ModelFamilies.Recognize"/>) unless named;
/// that family translates it (<see cref="ModelFamily.Import"/>).
/// </summary>
/// <example>
/// <code>
/// var ckpt = OriginalCheckpoint.Load("model_best.pth.tar");
/// var model = ckpt.CreateModel();   // ScanModel, VseModel, ...: weights loaded strictly, in evaluation mode
/// </code>
/// </example>
/// <param name="Source">The file it was read from.</param>
/// <param name="Options">The original options.</param>
/// <param name="Weights">The state dicts of the <c>model</c> entry, in order.</param>
/// <param name="Epoch">The saved epoch, if present.</param>
/// <param name="BestRsum">The best validation rsum, if present.</param>
/// <param name="Eiters">The iteration count, if present.</param>
public sealed record OriginalCheckpoint(string Source, CheckpointOptions Options, TorchStateDictList Weights, int? Epoch = null, double? BestRsum = null, long? Eiters = null)
{
    /// <summary>Reads an original PyTorch checkpoint file.</summary>
    public static OriginalCheckpoint Load(string path, CancellationToken cancellationToken = default) =>
        From(TorchCheckpoint.Load(path, cancellationToken: cancellationToken));

    /// <summary>The model parts of a loaded PyTorch checkpoint.</summary>
    public static OriginalCheckpoint From(TorchCheckpoint checkpoint) =>
        new(checkpoint.Path, checkpoint.Options, checkpoint.ModelStateDicts(), checkpoint.Epoch, checkpoint.BestRsum, checkpoint.Eiters);

    /// <summary>The family that wrote this checkpoint: <paramref name="name"/> when given, else the one that recognises it.</summary>
    public ModelFamily Family(string? name = null)
    {
        if (name is not null)
        {
            try { return ModelFamilies.Get(name); }
            catch (ArgumentException e) { throw new InvalidDataException($"{Source}: {e.Message}"); }
        }
        return ModelFamilies.Recognize(this)
            ?? throw new InvalidDataException($"{Source}: cannot tell which code wrote this checkpoint from its options ({string.Join(", ", Options.Keys.Take(12))}{(Options.Count > 12 ? ", ..." : "")}); name the model explicitly (one of {ModelFamilies.NameList}).");
    }

    /// <summary>The configuration and weights under the family's names; errors name the file.</summary>
    public ImportedModel Import(string? family = null)
    {
        var f = Family(family);
        try
        {
            var imported = f.Import(this);
            imported.Config.Validate();
            return imported;
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException(e.Message.StartsWith(Source, StringComparison.Ordinal) ? e.Message : $"{Source}: {e.Message}");
        }
    }

    /// <summary>
    /// The weights of a checkpoint whose <c>model</c> entry is <c>[img_enc.state_dict(), txt_enc.state_dict()]</c>
    /// (VSE++, SCAN, NAAF, VSRN) as one dict, named like CrossModal's models: <c>img_enc.</c> and <c>txt_enc.</c>
    /// prefixes.
    /// </summary>
    public Dictionary<string, Tensors.Tensor> EncoderState()
    {
        var (image, text) = Weights;
        var state = new Dictionary<string, Tensors.Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in image) state["img_enc." + name] = t;
        foreach (var (name, t) in text) state["txt_enc." + name] = t;
        return state;
    }

    /// <summary>
    /// The model this checkpoint describes, weights loaded (strictly: a missing, extra or mis-shaped entry is an
    /// error naming it and the file), in evaluation mode.
    /// </summary>
    public RetrievalModel CreateModel(string? family = null)
    {
        var imported = Import(family);
        var model = imported.Config.Family.Create(imported.Config, new Tensors.Rng(0));
        try
        {
            model.LoadStateDict(imported.State);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{Source}: {e.Message}");
        }
        model.Eval();
        return model;
    }
}
