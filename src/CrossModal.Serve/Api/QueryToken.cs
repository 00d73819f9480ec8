namespace CrossModal.Serve.Api;

/// <summary>One token of a text query as the model sees it.</summary>
/// <param name="Word">The token after lower-casing and NLTK-style tokenisation.</param>
/// <param name="Id">Its vocabulary id (3 = &lt;unk&gt; for unknown words).</param>
/// <param name="Known">False when the vocabulary does not hold the word (the model reads it as &lt;unk&gt;).</param>
public sealed record QueryToken(string Word, int Id, bool Known);
