namespace CrossModal.Data.Category;

/// <summary>
/// One seen/unseen partition of a dataset's classes for extendable (zero-shot) retrieval: models train on the seen
/// classes' training pairs and are evaluated on the unseen classes' test pairs (or, in the generalised variant, on
/// all test pairs). Class indices are the dataset's 0-based labels, ascending. Immutable.
/// </summary>
/// <param name="Seen">Classes whose training pairs (and names, for class embeddings) may be used.</param>
/// <param name="Unseen">Classes held out of training.</param>
/// <param name="Description">How the split was made ("random split 2 of 5, seed 0", "given: art, biology").</param>
public sealed record ClassSplit(IReadOnlyList<int> Seen, IReadOnlyList<int> Unseen, string Description)
{
    /// <summary>
    /// The split whose seen classes are <paramref name="seenNames"/> (class names from categories.txt, or indices);
    /// every other class is unseen. A name that is not a class of the dataset is one clear error listing the
    /// classes there are.
    /// </summary>
    public static ClassSplit FromNames(IReadOnlyList<string> seenNames, int classCount, IReadOnlyList<string>? categories, string source = "the class list")
    {
        if (seenNames.Count == 0) throw new ArgumentException($"{source}: no seen classes given.");
        var seen = new SortedSet<int>();
        foreach (var raw in seenNames)
        {
            string name = raw.Trim();
            int index = -1;
            if (categories is not null)
                for (int c = 0; c < categories.Count; c++)
                    if (string.Equals(categories[c], name, StringComparison.OrdinalIgnoreCase)) index = c;
            if (index < 0 && int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i) && i < classCount)
                index = i;
            if (index < 0)
            {
                string known = categories is not null ? string.Join(", ", categories) : $"indices 0..{classCount - 1}";
                throw new ArgumentException($"{source}: class '{name}' does not exist in the dataset (classes: {known}).");
            }
            if (!seen.Add(index)) throw new ArgumentException($"{source}: class '{name}' is named twice.");
        }
        var unseen = Enumerable.Range(0, classCount).Where(c => !seen.Contains(c)).ToArray();
        if (unseen.Length == 0) throw new ArgumentException($"{source}: all {classCount} classes are seen; an extendable split needs at least one unseen class.");
        string Name(int c) => categories is not null ? categories[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new ClassSplit(seen.ToArray(), unseen, $"seen: {string.Join(", ", seen.Select(Name))}");
    }

    /// <summary>
    /// <paramref name="count"/> random splits fixed by <paramref name="seed"/> (default: 5 splits of half the classes
    /// seen, 5/5 on the 10 Wikipedia classes): split s takes the first <paramref name="seenCount"/> classes of the
    /// s-th random permutation of the classes drawn from one <see cref="Tensors.Rng"/> stream. Splits may repeat
    /// for very few classes.
    /// </summary>
    public static IReadOnlyList<ClassSplit> Random(int classCount, int count = 5, ulong seed = 0, int? seenCount = null)
    {
        int seen = seenCount ?? classCount / 2;
        if (classCount < 2 || seen < 1 || seen >= classCount)
            throw new ArgumentException($"A split of {classCount} classes needs 1..{classCount - 1} seen classes; got {seen}.");
        if (count < 1) throw new ArgumentException($"The number of splits must be at least 1; got {count}.");
        var rng = new Tensors.Rng(seed);
        var splits = new ClassSplit[count];
        for (int s = 0; s < count; s++)
        {
            var perm = rng.Permutation(classCount);
            var seenSet = perm.Take(seen).Order().ToArray();
            var unseen = perm.Skip(seen).Order().ToArray();
            splits[s] = new ClassSplit(seenSet, unseen, $"random split {s + 1} of {count}, seed {seed}");
        }
        return splits;
    }

    /// <summary>Names of the seen classes (or their indices when the dataset has no categories.txt).</summary>
    public string[] SeenNames(IReadOnlyList<string>? categories) => Seen.Select(c => categories?[c] ?? c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
