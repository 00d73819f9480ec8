namespace CrossModal.Text.WordVectors;

/// <summary>
/// Settings of PPMI + truncated SVD word vectors. Defaults follow Levy, Goldberg and Dagan (TACL 2015, "Improving
/// distributional similarity with lessons learned from word embeddings") scaled to a small corpus: a symmetric
/// window of 5, context-distribution smoothing 0.75 (fixes PMI's bias towards rare contexts), the SVD's singular
/// values raised to 0.5 (symmetric weighting, better than the plain U S on similarity tasks), words seen at least 5
/// times, and 100 dimensions: the Wikipedia training texts hold about 0.6M content tokens (half of that for the
/// seen classes), far too few to fill 300 meaningful dimensions.
/// </summary>
/// <param name="Window">Context words on each side of a word (within one document, after stop words are removed).</param>
/// <param name="MinCount">Words occurring fewer times are dropped before windowing (requested names are always kept).</param>
/// <param name="MaxVocabulary">At most this many words, the most frequent.</param>
/// <param name="ContextSmoothing">Exponent alpha of the smoothed context distribution P_alpha(c) = count(c)^alpha / sum.</param>
/// <param name="Dimension">Vector width (capped by the vocabulary size).</param>
/// <param name="EigenvalueWeighting">Exponent p of the vectors U S^p.</param>
/// <param name="PowerIterations">Subspace iterations of the randomized SVD.</param>
/// <param name="Seed">Seed of the randomized SVD.</param>
public sealed record PpmiOptions(int Window = 5, int MinCount = 5, int MaxVocabulary = 30000, double ContextSmoothing = 0.75,
    int Dimension = 100, double EigenvalueWeighting = 0.5, int PowerIterations = 4, ulong Seed = 0);
