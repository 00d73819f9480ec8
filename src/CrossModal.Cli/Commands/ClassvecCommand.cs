using System.CommandLine;
using CrossModal.Data;
using CrossModal.Data.Category;
using CrossModal.Tensors.IO;
using CrossModal.Text;
using CrossModal.Text.Features;
using CrossModal.Text.WordVectors;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal classvec`: class embeddings (one row per class, .npy) as PPMI + truncated SVD word vectors of the
/// class names, trained on a corpus the user names: a labelled-pairs folder's training texts (with --unseen, only the
/// seen classes' texts, so nothing of the unseen classes' texts leaks), or any text file (one document per line).
/// </summary>
internal static class ClassvecCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "labelled-pairs folder: the corpus is its train_texts.txt, the classes its categories.txt (one row per class, in that order)" };
        var unseen = new Option<string?>("--unseen") { Description = "with --data: comma-separated classes whose texts are left out of the corpus (the extendable protocol's unseen classes)" };
        var corpus = new Option<string?>("--corpus") { Description = "a text file, one document per line (instead of --data)" };
        var classes = new Option<string?>("--classes") { Description = "with --corpus: the class names, comma-separated or a file with one per line" };
        var stopWords = new Option<string?>("--stop-words") { Description = "stop-word list (default with --data: its stopwords_from_dataset.txt)" };
        var output = new Option<string>("--out") { Description = "output .npy (classes x dim, float32, unit rows)", Required = true };
        var dim = new Option<int>("--dim") { Description = "vector width", DefaultValueFactory = _ => 100 };
        var window = new Option<int>("--window") { Description = "context words on each side", DefaultValueFactory = _ => 5 };
        var minCount = new Option<int>("--min-count") { Description = "words seen fewer times are dropped (class-name words are kept)", DefaultValueFactory = _ => 5 };
        var cmd = new Command("classvec", "Class embeddings from a text corpus: PPMI + SVD word vectors of the class names (one .npy row per class).");
        foreach (var o in new Option[] { data, unseen, corpus, classes, stopWords, output, dim, window, minCount }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            IReadOnlyList<string> texts, names;
            string described, stopPath;
            if (p.GetValue(data) is { } dir)
            {
                if (p.GetValue(corpus) is not null || p.GetValue(classes) is not null) throw new CliException("Give either --data or --corpus with --classes, not both.");
                string textsPath = Path.Combine(dir, "train_texts.txt"), labelsPath = Path.Combine(dir, "train_labels.txt"), categoriesPath = Path.Combine(dir, "categories.txt");
                foreach (var f in new[] { textsPath, labelsPath, categoriesPath })
                    if (!File.Exists(f)) throw new FileNotFoundException($"{dir}: {Path.GetFileName(f)} is missing; classvec --data needs train_texts.txt, train_labels.txt and categories.txt.", f);
                names = TextLines.Read(categoriesPath).Select(l => l.Trim()).ToArray();
                var all = TextLines.Read(textsPath);
                var labels = TextLines.Read(labelsPath);
                if (labels.Length != all.Length) throw new InvalidDataException($"{labelsPath}: {labels.Length} labels for {all.Length} texts in {textsPath}; expected one label per text.");
                var keep = Enumerable.Range(0, names.Count).ToHashSet();
                described = $"{textsPath} (all classes)";
                if (p.GetValue(unseen) is { } list)
                {
                    var split = ClassSplit.FromUnseenNames(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), names.Count, names, "--unseen");
                    keep = split.Seen.ToHashSet();
                    described = $"{textsPath} (seen classes only: {string.Join(", ", split.Seen.Select(c => names[c]))})";
                }
                var kept = new List<string>();
                for (int i = 0; i < all.Length; i++)
                {
                    if (!int.TryParse(labels[i].Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int c) || c < 0 || c >= names.Count)
                        throw new InvalidDataException($"{labelsPath}: line {i + 1} is '{labels[i]}'; expected a class index 0..{names.Count - 1}.");
                    if (keep.Contains(c)) kept.Add(all[i]);
                }
                texts = kept;
                stopPath = p.GetValue(stopWords) ?? Path.Combine(dir, "stopwords_from_dataset.txt");
            }
            else
            {
                string file = p.GetValue(corpus) ?? throw new CliException("Give --data DIR (a labelled-pairs folder) or --corpus FILE with --classes.");
                if (p.GetValue(unseen) is not null) throw new CliException("--unseen needs --data (it selects texts by their labels).");
                string spec = p.GetValue(classes) ?? throw new CliException("--corpus needs --classes (names, comma-separated, or a file with one per line).");
                if (!File.Exists(file)) throw new FileNotFoundException($"{file}: corpus not found.", file);
                texts = TextLines.Read(file);
                names = File.Exists(spec) ? TextLines.Read(spec).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray()
                    : spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                described = file;
                stopPath = p.GetValue(stopWords) ?? "";
            }
            if (p.GetValue(stopWords) is { } given && !File.Exists(given)) throw new FileNotFoundException($"{given}: stop-word list not found.", given);
            var stop = File.Exists(stopPath) ? TermTokenizer.LoadStopWords(stopPath) : new HashSet<string>(StringComparer.Ordinal);
            var options = new PpmiOptions(Window: p.GetValue(window), MinCount: p.GetValue(minCount), Dimension: p.GetValue(dim));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (model, vectors) = PpmiWordVectors.TrainForClasses(texts, names, stop, options, described);
            Npy.Write(p.GetValue(output)!, vectors, [names.Count, model.Dimension]);
            Console.WriteLine($"{names.Count} class vectors of width {model.Dimension} from {texts.Count} documents of {described} ({model.Tokens} tokens, {model.Words.Count} words) in {clock.Elapsed.TotalSeconds:F1} s -> {p.GetValue(output)}");
            for (int c = 0; c < names.Count; c++)
            {
                int d = model.Dimension, self = c;
                var nearest = names.Select((n, j) => (n, j)).Where(x => x.j != self)
                    .Select(x => (x.n, Cos: Dot(vectors.AsSpan(self * d, d), vectors.AsSpan(x.j * d, d)))).OrderByDescending(x => x.Cos).Take(2);
                Console.WriteLine($"  {names[c],-16} nearest classes: {string.Join(", ", nearest.Select(x => $"{x.n} {x.Cos:F2}"))}");
            }
            return 0;
        });
        return cmd;
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
