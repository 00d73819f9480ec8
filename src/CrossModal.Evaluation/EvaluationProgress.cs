namespace CrossModal.Evaluation;

/// <summary>
/// Where an evaluation stands, for the console, <c>--json</c> and HTTP alike: which model of an ensemble
/// (<see cref="Model"/> of <see cref="Models"/>, 1-based), whether it is encoding the split or scoring shards, and
/// for scoring the shards done of the total, per fold of the 5-fold protocol (<see cref="Fold"/> 1-based, 0 when the
/// split is scored whole).
/// </summary>
public sealed record EvaluationProgress(int Model, int Models, EvaluationStage Stage, int Images, int Captions, int Done = 0, int Total = 0, int Fold = 0)
{
    /// <summary>"model 1/2: encoding 1000 images and 5000 captions", "model 1/2: scored 10/64 shards of fold 1/5".</summary>
    public override string ToString() => Stage == EvaluationStage.Encoding
        ? $"model {Model}/{Models}: encoding {Images} images and {Captions} captions"
        : $"model {Model}/{Models}: scored {Done}/{Total} shards{(Fold > 0 ? $" of fold {Fold}/5" : "")}";
}
