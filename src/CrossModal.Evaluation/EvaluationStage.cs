namespace CrossModal.Evaluation;

/// <summary>The two stages of evaluating one model.</summary>
public enum EvaluationStage
{
    /// <summary>Encoding every image and caption of the split.</summary>
    Encoding,

    /// <summary>Scoring image x caption shards.</summary>
    Scoring,
}
