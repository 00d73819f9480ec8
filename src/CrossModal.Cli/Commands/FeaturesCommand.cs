using System.CommandLine;
using CrossModal.Tensors.IO;
using CrossModal.Tensors.Threading;
using CrossModal.Vision.Cnn;
using CrossModal.Vision.Features;

namespace CrossModal.Cli.Commands;

/// <summary>
/// `crossmodal features`: image files to CNN grid ("region") or global features with an ONNX model.
/// Without --split it writes one N x G*G x C (or N x C with --global) .npy plus the matching ids file; with --split
/// it writes the SCAN precomp layout ({split}_ims.npy, {split}_ids.txt and, with --captions, {split}_caps.txt) into
/// the --out folder. Unreadable images are reported, skipped (in every file, so rows and captions stay aligned)
/// and listed at the end; the exit code is then 1 unless --allow-failures is given.
/// </summary>
internal static class FeaturesCommand
{
    public static Command Create()
    {
        var onnx = new Option<FileInfo>("--onnx") { Description = "The ONNX model (e.g. ../shared/data/squeezenet/SqueezeNet_fp16.onnx).", Required = true };
        var images = new Option<DirectoryInfo>("--images") { Description = "Folder holding the images.", Required = true };
        var list = new Option<FileInfo?>("--list") { Description = "Image file names relative to --images, one per line (default: every .jpg/.jpeg/.png in --images, sorted)." };
        var layer = new Option<string>("--layer") { Description = "The value to take features from, e.g. fire9/concat_1 for SqueezeNet 1.1 (must be N x C x H x W).", Required = true };
        var grid = new Option<int>("--grid") { Description = "Pool the map to G x G cells, written row-major as G*G regions.", DefaultValueFactory = _ => 6 };
        var global = new Option<bool>("--global") { Description = "Write the mean of the map (N x C) instead of a grid." };
        var output = new Option<string>("--out") { Description = "Output .npy file, or with --split the output folder.", Required = true };
        var split = new Option<FileInfo?>("--split") { Description = "Split name per image (same order as the list), e.g. official_split.txt: writes the SCAN precomp layout per split." };
        var captions = new Option<FileInfo?>("--captions") { Description = "With --split: 5 captions per image (same order) to write as {split}_caps.txt." };
        var unassigned = new Option<string>("--unassigned") { Description = "With --split: where images whose split is 'none' go (a split name, or 'skip').", DefaultValueFactory = _ => "train" };
        var size = new Option<int>("--size") { Description = "Network input size (Pillow bilinear resize, no crop).", DefaultValueFactory = _ => 224 };
        var rgb = new Option<bool>("--rgb") { Description = "Feed R, G, B planes (default B, G, R as Caffe models like SqueezeNet 1.1 expect)." };
        var scale = new Option<float>("--scale") { Description = "Multiply pixel values 0..255 by this first (1/255 for 0..1 inputs).", DefaultValueFactory = _ => 1f };
        var mean = new Option<string>("--mean") { Description = "Per-channel mean to subtract after scaling, in the fed channel order.", DefaultValueFactory = _ => "0,0,0" };
        var std = new Option<string>("--std") { Description = "Per-channel std to divide by, in the fed channel order.", DefaultValueFactory = _ => "1,1,1" };
        var batch = new Option<int>("--batch-size") { Description = "Images per network call.", DefaultValueFactory = _ => 16 };
        var threads = new Option<int>("--threads") { Description = "Cores to use (default: all).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var allowFailures = new Option<bool>("--allow-failures") { Description = "Exit with 0 even when some images could not be read (they are still listed)." };

        var cmd = new Command("features", "Extract CNN grid (region) or global features of images with an ONNX model, optionally in the SCAN precomp layout.");
        foreach (var o in new Option[] { onnx, images, list, layer, grid, global, output, split, captions, unassigned, size, rgb, scale, mean, std, batch, threads, allowFailures })
            cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            Parallelism.Threads = Math.Max(1, parse.GetValue(threads));
            var folder = parse.GetValue(images)!;
            if (!folder.Exists) throw new DirectoryNotFoundException($"Image folder not found: {folder.FullName}");
            var names = ReadList(parse.GetValue(list), folder);
            var preprocessing = new ImagePreprocessing(parse.GetValue(size), parse.GetValue(size), !parse.GetValue(rgb), parse.GetValue(scale),
                ParseTriple(parse.GetValue(mean)!, "--mean"), ParseTriple(parse.GetValue(std)!, "--std"));
            int g = parse.GetValue(global) ? 0 : parse.GetValue(grid);
            if (g <= 0 && !parse.GetValue(global)) throw new ArgumentException($"--grid must be positive, got {parse.GetValue(grid)}.");

            CnnRuntime runtime;
            try { runtime = CnnRuntime.Load(parse.GetValue(onnx)!.FullName); }
            catch (NotSupportedException e) { throw new CliException(e.Message); }
            var extractor = new FeatureExtractor(runtime, parse.GetValue(layer)!, preprocessing, g, Math.Max(1, parse.GetValue(batch)));

            // Which output each image goes to.
            string outPath = parse.GetValue(output)!;
            var splitFile = parse.GetValue(split);
            string[] target;
            if (splitFile is null) target = Enumerable.Repeat("", names.Length).ToArray();
            else
            {
                target = ReadLines(splitFile, "split file");
                if (target.Length != names.Length) throw new InvalidDataException($"{splitFile.FullName}: {target.Length} split names for {names.Length} images.");
                string none = parse.GetValue(unassigned)!;
                for (int i = 0; i < target.Length; i++) if (target[i] == "none") target[i] = none == "skip" ? "" : none;
            }
            string[]? caps = null;
            if (parse.GetValue(captions) is { } capFile)
            {
                if (splitFile is null) throw new ArgumentException("--captions needs --split (captions are written per split).");
                caps = ReadLines(capFile, "captions file", keepEmpty: true);
                if (caps.Length != 5 * names.Length) throw new InvalidDataException($"{capFile.FullName}: {caps.Length} captions for {names.Length} images (5 per image expected).");
            }

            var writers = new Dictionary<string, (FeatureFileWriter Npy, List<int> Rows)>(StringComparer.Ordinal);
            FeatureFileWriter Writer(string key)
            {
                if (writers.TryGetValue(key, out var w)) return w.Npy;
                string path = splitFile is null ? outPath : Path.Combine(outPath, $"{key}_ims.npy");
                w = (new FeatureFileWriter(path), new List<int>());
                writers[key] = w;
                return w.Npy;
            }
            var selected = Enumerable.Range(0, names.Length).Where(i => splitFile is null || target[i].Length > 0).ToArray();
            var paths = selected.Select(i => Path.Combine(folder.FullName, names[i])).ToArray();
            var progress = new StderrProgress();
            FeatureSummary summary;
            try
            {
                summary = extractor.Extract(paths, (k, row) =>
                {
                    int i = selected[k];
                    Writer(target[i]).Append(row);
                    writers[target[i]].Rows.Add(i);
                }, progress);
                progress.Finish();
                foreach (var (key, (npy, rows)) in writers.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    npy.Complete(summary.RowShape);
                    string ids = splitFile is null ? Path.ChangeExtension(outPath, null) + "_ids.txt" : Path.Combine(outPath, $"{key}_ids.txt");
                    AtomicFile.WriteAllText(ids, string.Concat(rows.Select(i => names[i] + "\n")));
                    if (caps is not null)
                        AtomicFile.WriteAllText(Path.Combine(outPath, $"{key}_caps.txt"), string.Concat(rows.SelectMany(i => caps.Skip(5 * i).Take(5)).Select(c => c + "\n")));
                    Console.Error.WriteLine($"features: wrote {npy.FilePath} ({rows.Count} x {string.Join(" x ", summary.RowShape)})");
                }
            }
            finally
            {
                foreach (var w in writers.Values) w.Npy.Dispose();
            }
            Console.Error.WriteLine($"features: {summary.Succeeded} images in {summary.Seconds:F1} s ({summary.Succeeded / Math.Max(1e-9, summary.Seconds):F1} images/s)");
            if (summary.Failures.Count == 0) return 0;
            Console.Error.WriteLine($"features: {summary.Failures.Count} image(s) could not be read and were skipped:");
            foreach (var f in summary.Failures) Console.Error.WriteLine($"  {f.Message}");
            if (parse.GetValue(allowFailures)) return 0;
            Console.Error.WriteLine($"error: {summary.Failures.Count} of {paths.Length} images could not be read (listed above); the features of the others were written. Use --allow-failures to exit with 0.");
            return CliApp.DataError;
        });
        return cmd;
    }

    private static string[] ReadList(FileInfo? list, DirectoryInfo folder)
    {
        if (list is not null) return ReadLines(list, "image list");
        var names = folder.EnumerateFiles()
            .Where(f => f.Extension.ToLowerInvariant() is ".jpg" or ".jpeg" or ".png")
            .Select(f => f.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        if (names.Length == 0) throw new InvalidDataException($"{folder.FullName}: no .jpg, .jpeg or .png files.");
        return names;
    }

    private static string[] ReadLines(FileInfo file, string what, bool keepEmpty = false)
    {
        if (!file.Exists) throw new FileNotFoundException($"{what} not found: {file.FullName}", file.FullName);
        var lines = File.ReadAllLines(file.FullName).Select(l => l.Trim());
        if (!keepEmpty) lines = lines.Where(l => l.Length > 0);
        else
        {
            var all = lines.ToList();
            while (all.Count > 0 && all[^1].Length == 0) all.RemoveAt(all.Count - 1);
            lines = all;
        }
        return lines.ToArray();
    }

    private static float[] ParseTriple(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 3 || !parts.All(p => float.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)))
            throw new ArgumentException($"{option} needs three comma-separated numbers, got '{text}'.");
        return parts.Select(p => float.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>
    /// Progress on stderr: the shared redrawn bar when stderr is a terminal, otherwise one line at most every ten
    /// seconds (logs stay short but show that a long job is moving).
    /// </summary>
    private sealed class StderrProgress : IProgress<FeatureProgress>
    {
        private readonly ConsoleProgress _bar = new();
        private readonly bool _interactive = !Console.IsErrorRedirected;
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private double _last;

        public void Report(FeatureProgress v)
        {
            string rate = $"{v.ImagesPerSecond:F1} images/s, {v.Failed} failed";
            if (_interactive)
            {
                _bar.Update("features", v.Done, v.Total, rate);
                return;
            }
            if (_clock.Elapsed.TotalSeconds - _last < 10) return;
            _last = _clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"features: {v.Done}/{v.Total} images, {rate}");
        }

        public void Finish() => _bar.Clear();
    }
}
