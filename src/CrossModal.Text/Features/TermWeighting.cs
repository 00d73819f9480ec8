namespace CrossModal.Text.Features;

/// <summary>How <see cref="TfidfVectorizer"/> weights a term's count in a document.</summary>
public enum TermWeighting
{
    /// <summary>count * idf, rows L2-normalised (scikit-learn's TfidfVectorizer defaults: smooth idf, l2).</summary>
    TfIdf,

    /// <summary>Raw counts (a bag of words as the ACMR code feeds it), not normalised.</summary>
    Count,
}
