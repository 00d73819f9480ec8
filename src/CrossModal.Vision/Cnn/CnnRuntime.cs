using System.Collections.Concurrent;
using CrossModal.Tensors;
using CrossModal.Tensors.Threading;
using CrossModal.Vision.Cnn.Operators;
using CrossModal.Vision.Onnx;

namespace CrossModal.Vision.Cnn;

/// <summary>
/// Runs an ONNX CNN graph in float32 (float16/double weights are widened once at load). Supported operators:
/// Conv, Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, Concat, Dropout and Identity (inference),
/// Softmax, Gemm, MatMul, Add, Sub, Mul, Div, Flatten, Reshape, BatchNormalization, Constant, and the two helpers
/// torch exports emit around them, constant-mode Pad and Cast. Every node is
/// checked when the runtime is created: an unsupported operator, domain or attribute is refused then, naming it,
/// never halfway through a run.
/// <para>
/// <see cref="Run(IReadOnlyDictionary{string, Tensor}, IReadOnlyList{string}, CancellationToken)"/> computes only
/// the nodes the requested values depend on, so any intermediate value (e.g. "fire9/concat_1") can be asked for
/// by name. Intermediate buffers are pooled and released as soon as their last consumer has run; a Conv or Gemm
/// whose only consumer is a Relu applies the ReLU itself. The batch axis is free (a graph declared for one image
/// runs on N); declared channel counts are checked. Instances are safe to share between threads.
/// </para>
/// </summary>
public sealed class CnnRuntime
{
    private static readonly string[] SupportedOperators =
    {
        "Conv", "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "Concat", "Dropout", "Identity",
        "Softmax", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Flatten", "Reshape", "BatchNormalization", "Constant",
        "Pad", "Cast",
    };

    private readonly OnnxModel _model;
    private readonly Dictionary<string, CnnValue> _constants = new(StringComparer.Ordinal);
    private readonly CnnOperator?[] _operators;
    private readonly Dictionary<string, int> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OnnxValueInfo> _inputs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CnnPlan> _plans = new(StringComparer.Ordinal);

    private CnnRuntime(OnnxModel model)
    {
        _model = model;
        var graph = model.Graph;
        string source = model.Source;
        foreach (var (name, tensor) in graph.Initializers)
        {
            try { _constants[name] = ConstantOperator.FromTensor(tensor); }
            catch (NotSupportedException e) { throw new NotSupportedException($"{source}: initializer '{name}': {e.Message}", e); }
        }
        foreach (var input in graph.Inputs)
            if (!_constants.ContainsKey(input.Name)) _inputs[input.Name] = input;

        _operators = new CnnOperator?[graph.Nodes.Count];
        var problems = new List<string>();
        var available = new HashSet<string>(_constants.Keys, StringComparer.Ordinal);
        available.UnionWith(_inputs.Keys);
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            foreach (var input in node.Inputs)
                if (input.Length > 0 && !available.Contains(input))
                    throw new InvalidDataException($"{source}: {node.Describe()} reads '{input}', which no earlier node, input or initializer provides (the graph is not in topological order or is incomplete).");
            try
            {
                var op = CreateOperator(node, model.Opset, source);
                _operators[i] = op;
                if (op is ConstantOperator constant) _constants[node.Outputs[0]] = constant.Value;
            }
            catch (NotSupportedException e)
            {
                problems.Add(e.Message);
            }
            foreach (var output in node.Outputs)
            {
                if (output.Length == 0) continue;
                if (!_producer.TryAdd(output, i) || _constants.ContainsKey(output) && _operators[i] is not ConstantOperator)
                    throw new InvalidDataException($"{source}: value '{output}' is produced twice.");
                available.Add(output);
            }
        }
        if (problems.Count > 0)
            throw new NotSupportedException(problems.Count == 1 ? problems[0]
                : $"{source}: {problems.Count} nodes cannot run:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems.Distinct()));
    }

    /// <summary>Prepares <paramref name="model"/> for running, checking every node.</summary>
    /// <exception cref="NotSupportedException">A node uses an operator, domain or attribute this runtime does not implement (all are listed).</exception>
    /// <exception cref="InvalidDataException">The graph is malformed (a value used before it is produced, produced twice).</exception>
    public static CnnRuntime Create(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new CnnRuntime(model);
    }

    /// <summary>Loads an .onnx file and prepares it (see <see cref="Create"/>).</summary>
    public static CnnRuntime Load(string path) => Create(OnnxModel.Load(path));

    /// <summary>The model being run.</summary>
    public OnnxModel Model => _model;

    /// <summary>Names of the inputs that must be fed (graph inputs that are not initializers).</summary>
    public IReadOnlyList<string> InputNames => _inputs.Keys.ToArray();

    /// <summary>Names of the declared graph outputs.</summary>
    public IReadOnlyList<string> OutputNames => _model.Graph.Outputs.Select(o => o.Name).ToArray();

    /// <summary>Every value a node produces, in graph order: all of them can be requested from Run.</summary>
    public IReadOnlyList<string> ValueNames => _model.Graph.Nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0).ToArray();

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (float32 tensors by input name, batch axis first) and returns
    /// the requested values (graph outputs or any intermediate value) as new tensors.
    /// </summary>
    /// <exception cref="ArgumentException">A requested name does not exist, an input is missing, or a shape does not fit (the message names the node).</exception>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputNames,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        if (outputNames.Count == 0) throw new ArgumentException("Request at least one output.", nameof(outputNames));
        var plan = GetPlan(outputNames);
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in plan.RequiredInputs)
        {
            if (!inputs.TryGetValue(name, out var t))
                throw new ArgumentException($"{_model.Source}: input '{name}' is required (inputs: {string.Join(", ", _inputs.Keys)}).", nameof(inputs));
            CheckInput(name, t);
            feeds[name] = t;
        }
        int batch = feeds.Count > 0 && feeds.Values.All(t => t.Rank >= 1) ? feeds.Values.First().Dim(0) : 0;
        if (batch > 1 && feeds.Values.All(t => t.Dim(0) == batch) && IsBatchSeparable(plan, feeds))
            return RunImageByImage(plan, feeds, outputNames, batch, cancellationToken);

        var fed = feeds.ToDictionary(p => p.Key, p => CnnValue.Wrap(p.Value.Buffer, p.Value.Offset, p.Value.Shape), StringComparer.Ordinal);
        var values = Execute(plan, fed, cancellationToken);
        try
        {
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var name in outputNames)
            {
                var v = values[name];
                result[name] = v.IsInt64
                    ? Tensor.FromArray(v.Ints!.Select(x => (float)x).ToArray(), v.Shape)
                    : Tensor.FromSpan(v.Span, v.Shape);
            }
            return result;
        }
        finally
        {
            foreach (var v in values.Values) v.Release();
        }
    }

    /// <summary>
    /// Runs a batch-separable plan one image at a time, images spread over the cores (each core runs whole
    /// images, its operators single-threaded). Every layer's working set is one image's, so it stays in cache, and
    /// there is no synchronisation between layers. The results are identical to a batched run.
    /// </summary>
    private Dictionary<string, Tensor> RunImageByImage(CnnPlan plan, Dictionary<string, Tensor> feeds, IReadOnlyList<string> outputNames,
        int batch, CancellationToken cancellationToken)
    {
        var names = outputNames.Distinct(StringComparer.Ordinal).ToArray();
        var results = new float[names.Length][];
        var shapes = new int[names.Length][];
        var gate = new object();
        Parallelism.For(batch, 1, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                var fed = new Dictionary<string, CnnValue>(StringComparer.Ordinal);
                foreach (var (name, t) in feeds)
                {
                    var shape = t.Shape;
                    int per = t.Length / batch;
                    shape[0] = 1;
                    fed[name] = CnnValue.Wrap(t.Buffer, t.Offset + i * per, shape);
                }
                var values = Execute(plan, fed, cancellationToken);
                try
                {
                    for (int k = 0; k < names.Length; k++)
                    {
                        var v = values[names[k]];
                        if (v.Rank == 0 || v.Shape[0] != 1)
                            throw new InvalidOperationException($"{_model.Source}: '{names[k]}' of one image has shape {Tensor.FormatShape(v.Shape)}, not [1, ...].");
                        lock (gate)
                        {
                            if (results[k] is null)
                            {
                                shapes[k] = v.Shape.ToArray();
                                shapes[k][0] = batch;
                                results[k] = new float[(long)v.Length * batch];
                            }
                            else if (!shapes[k].AsSpan(1).SequenceEqual(v.Shape.AsSpan(1)))
                                throw new ArgumentException($"{_model.Source}: '{names[k]}' has different shapes for different images of the batch.");
                        }
                        var dst = results[k].AsSpan(i * v.Length, v.Length);
                        if (v.IsInt64) for (int j = 0; j < v.Length; j++) dst[j] = v.Ints![j];
                        else v.Span.CopyTo(dst);
                    }
                }
                finally
                {
                    foreach (var v in values.Values) v.Release();
                }
            }
        });
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int k = 0; k < names.Length; k++) result[names[k]] = Tensor.FromArray(results[k], shapes[k]);
        return result;
    }

    /// <summary>
    /// Executes the plan's steps on the fed inputs and returns the requested values (the caller releases them).
    /// Intermediate values are released as soon as their last reader has run, and everything on an exception.
    /// </summary>
    private Dictionary<string, CnnValue> Execute(CnnPlan plan, Dictionary<string, CnnValue> fed, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, CnnValue>(_constants, StringComparer.Ordinal);
        foreach (var (name, v) in fed) values[name] = v;
        var remaining = new Dictionary<string, int>(plan.UseCounts, StringComparer.Ordinal);
        bool done = false;
        try
        {
            foreach (var step in plan.Steps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var args = new CnnValue?[step.Inputs.Length];
                for (int i = 0; i < args.Length; i++)
                    args[i] = step.Inputs[i].Length == 0 ? null : values[step.Inputs[i]];
                var profile = CnnProfile.Current;
                long t0 = profile is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                CnnValue?[] results;
                if (step.ConcatSlot is { } slot)
                {
                    values.TryGetValue(step.Outputs[0], out var target);
                    results = new CnnValue?[] { ((ConvOperator)step.Operator).RunInto(args, step.FuseRelu, target, slot.Offset, slot.Total) };
                }
                else results = step.FuseRelu ? step.Operator.RunWithRelu(args) : step.Operator.Run(args);
                profile?.AddStep(step.Operator.Node.OpType, System.Diagnostics.Stopwatch.GetTimestamp() - t0);
                for (int i = 0; i < step.Outputs.Length; i++)
                {
                    if (step.Outputs[i].Length == 0) continue;
                    var r = i < results.Length ? results[i] : null;
                    if (r is null)
                    {
                        if (remaining.ContainsKey(step.Outputs[i]) || plan.Requested.Contains(step.Outputs[i]))
                            throw new ArgumentException($"{_model.Source}: {step.Operator.Node.Describe()} does not produce its optional output '{step.Outputs[i]}'.");
                        continue;
                    }
                    values[step.Outputs[i]] = r;
                }
                foreach (var name in step.Inputs)
                {
                    if (name.Length == 0 || !remaining.TryGetValue(name, out int left)) continue;
                    if (--left == 0)
                    {
                        remaining.Remove(name);
                        values[name].Release();
                    }
                    else remaining[name] = left;
                }
            }
            var requested = new Dictionary<string, CnnValue>(StringComparer.Ordinal);
            foreach (var name in plan.Requested) requested[name] = values[name];
            // Outputs nobody reads (e.g. the second output of a node) go back to the pool too.
            foreach (var (name, v) in values)
                if (!plan.Requested.Contains(name) && !_constants.ContainsKey(name) && !fed.ContainsKey(name)) v.Release();
            done = true;
            return requested;
        }
        finally
        {
            if (!done)
                foreach (var (name, v) in values)
                    if (!_constants.ContainsKey(name)) v.Release();
        }
    }

    /// <summary>
    /// Whether every step treats the images of a batch independently, found by propagating ranks from the fed
    /// inputs (each operator decides for itself; Reshape, for one, never claims it).
    /// </summary>
    private bool IsBatchSeparable(CnnPlan plan, Dictionary<string, Tensor> feeds)
    {
        string key = string.Join(",", feeds.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value.Rank));
        return plan.Separable.GetOrAdd(key, _ =>
        {
            var ranks = feeds.ToDictionary(p => p.Key, p => p.Value.Rank, StringComparer.Ordinal);
            foreach (var step in plan.Steps)
            {
                var inRanks = new int[step.Inputs.Length];
                var constants = new CnnValue?[step.Inputs.Length];
                for (int i = 0; i < inRanks.Length; i++)
                {
                    string name = step.Inputs[i];
                    if (name.Length == 0) { inRanks[i] = -1; continue; }
                    if (_constants.TryGetValue(name, out var c)) { constants[i] = c; inRanks[i] = c.Rank; }
                    else if (ranks.TryGetValue(name, out int r)) inRanks[i] = r;
                    else return false;
                }
                var outRanks = step.Operator.SeparableOutputRanks(inRanks, constants);
                if (outRanks is null) return false;
                for (int i = 0; i < step.Outputs.Length && i < outRanks.Length; i++)
                    if (step.Outputs[i].Length > 0) ranks[step.Outputs[i]] = outRanks[i];
            }
            return true;
        });
    }

    /// <summary>Runs a single-input graph and returns one value.</summary>
    public Tensor Run(Tensor input, string outputName, CancellationToken cancellationToken = default)
    {
        if (_inputs.Count != 1) throw new ArgumentException($"{_model.Source} has {_inputs.Count} inputs ({string.Join(", ", _inputs.Keys)}); name them.");
        return Run(new Dictionary<string, Tensor> { [_inputs.Keys.First()] = input }, new[] { outputName }, cancellationToken)[outputName];
    }

    private void CheckInput(string name, Tensor t)
    {
        var declared = _inputs[name].Shape;
        if (declared is null) return;
        if (declared.Count != t.Rank)
            throw new ArgumentException($"{_model.Source}: input '{name}' has shape {Tensor.FormatShape(t.ShapeSpan)}, the model declares rank {declared.Count} [{string.Join(", ", declared)}].");
        // Dimension 0 is the batch; spatial axes are free for convolutional graphs; channels must match.
        if (declared.Count >= 2 && declared[1] > 0 && declared[1] != t.Dim(1))
            throw new ArgumentException($"{_model.Source}: input '{name}' has {t.Dim(1)} channels (shape {Tensor.FormatShape(t.ShapeSpan)}), the model expects {declared[1]}.");
    }

    private CnnPlan GetPlan(IReadOnlyList<string> outputNames)
    {
        string key = string.Join("\n", outputNames);
        return _plans.GetOrAdd(key, _ => BuildPlan(outputNames));
    }

    private CnnPlan BuildPlan(IReadOnlyList<string> outputNames)
    {
        var nodes = _model.Graph.Nodes;
        var needed = new bool[nodes.Count];
        var requiredInputs = new List<string>();
        var stack = new Stack<string>();
        foreach (var name in outputNames)
        {
            if (!_producer.ContainsKey(name) && !_inputs.ContainsKey(name) && !_constants.ContainsKey(name))
            {
                var similar = ValueNames.Where(v => v.Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(v, StringComparison.OrdinalIgnoreCase)).Take(5).ToArray();
                throw new ArgumentException($"{_model.Source} has no value named '{name}'" +
                    (similar.Length > 0 ? $"; did you mean {string.Join(", ", similar.Select(s => "'" + s + "'"))}?" : $" (values: {string.Join(", ", ValueNames.Take(12))}, ...)."));
            }
            stack.Push(name);
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (stack.Count > 0)
        {
            var name = stack.Pop();
            if (!seen.Add(name)) continue;
            if (_inputs.ContainsKey(name)) { requiredInputs.Add(name); continue; }
            if (!_producer.TryGetValue(name, out int idx) || _operators[idx] is ConstantOperator) continue;
            if (needed[idx]) continue;
            needed[idx] = true;
            foreach (var input in nodes[idx].Inputs)
                if (input.Length > 0) stack.Push(input);
        }

        // Use counts: consumers among the needed steps; requested outputs and constants are never released.
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
        {
            if (!needed[i]) continue;
            foreach (var input in nodes[i].Inputs)
                if (input.Length > 0 && !_constants.ContainsKey(input) && !_inputs.ContainsKey(input))
                    uses[input] = uses.GetValueOrDefault(input) + 1;
        }
        var requested = new HashSet<string>(outputNames, StringComparer.Ordinal);

        var steps = new List<CnnPlan.Step>();
        var skip = new bool[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            if (!needed[i] || skip[i]) continue;
            var op = _operators[i]!;
            var outputs = nodes[i].Outputs.ToArray();
            bool fuse = false;
            if (op.CanFuseRelu && outputs.Length == 1 && !requested.Contains(outputs[0]) && uses.GetValueOrDefault(outputs[0]) == 1)
            {
                // Fold the following Relu that is this output's only consumer.
                for (int j = i + 1; j < nodes.Count; j++)
                {
                    if (!needed[j] || !nodes[j].Inputs.Contains(outputs[0])) continue;
                    if (nodes[j].OpType == "Relu" && nodes[j].Inputs.Count == 1)
                    {
                        fuse = true;
                        skip[j] = true;
                        outputs = new[] { nodes[j].Outputs[0] };
                        uses.Remove(nodes[i].Outputs[0]);
                    }
                    break;
                }
            }
            steps.Add(new CnnPlan.Step(op, nodes[i].Inputs.ToArray(), outputs, fuse));
        }
        foreach (var name in outputNames) uses.Remove(name);
        steps = ConcatInPlace(steps, uses, requested);
        return new CnnPlan(steps, uses, requiredInputs, requested);
    }

    /// <summary>
    /// Lets the Convs feeding a channel Concat (axis 1) write straight into its output when each of them is read
    /// only by that Concat and not requested, and their channel counts are known from constant weights: the Concat
    /// step disappears, and with it one copy of the data and one buffer per input (SqueezeNet's fire modules).
    /// </summary>
    private List<CnnPlan.Step> ConcatInPlace(List<CnnPlan.Step> steps, Dictionary<string, int> uses, HashSet<string> requested)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < steps.Count; i++)
            foreach (var o in steps[i].Outputs)
                if (o.Length > 0) producer[o] = i;
        var replaced = new Dictionary<int, CnnPlan.Step>();
        var removed = new HashSet<int>();
        for (int i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step.Operator is not ConcatOperator || step.Operator.Node.Attributes.TryGetValue("axis", out var axis) is false || axis.Int != 1) continue;
            var inputs = step.Inputs;
            if (inputs.Length < 2 || inputs.Distinct(StringComparer.Ordinal).Count() != inputs.Length) continue;
            var slots = new List<(int Step, int Channels)>();
            foreach (var input in inputs)
            {
                if (input.Length == 0 || requested.Contains(input) || uses.GetValueOrDefault(input) != 1 || !producer.TryGetValue(input, out int p)) break;
                var ps = steps[p];
                if (ps.Operator is not ConvOperator || ps.Outputs.Length != 1 || ps.ConcatSlot is not null || replaced.ContainsKey(p)) break;
                int channels = ConvOperator.OutputChannels(ps.Inputs.Length > 1 ? _constants.GetValueOrDefault(ps.Inputs[1]) : null);
                if (channels < 0) break;
                slots.Add((p, channels));
            }
            if (slots.Count != inputs.Length) continue;
            int total = slots.Sum(s => s.Channels), offset = 0;
            string output = step.Outputs[0];
            foreach (var (p, channels) in slots)
            {
                uses.Remove(steps[p].Outputs[0]);
                replaced[p] = steps[p] with { Outputs = new[] { output }, ConcatSlot = (offset, total) };
                offset += channels;
            }
            removed.Add(i);
        }
        var result = new List<CnnPlan.Step>(steps.Count);
        for (int i = 0; i < steps.Count; i++)
            if (!removed.Contains(i)) result.Add(replaced.TryGetValue(i, out var r) ? r : steps[i]);
        return result;
    }

    private static CnnOperator CreateOperator(OnnxNode node, long opset, string source)
    {
        if (node.Domain.Length > 0 && node.Domain != "ai.onnx")
            throw new NotSupportedException($"{source}: {node.Describe()}: operator domain '{node.Domain}' is not supported (only the standard ai.onnx operators).");
        NodeAttributes A(params string[] known) => new(node, source, known);
        return node.OpType switch
        {
            "Conv" => new ConvOperator(A("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"), _ => null),
            "Relu" => new UnaryOperator(A(), opset),
            "Clip" => new UnaryOperator(opset < 11 ? A("min", "max") : A(), opset),
            "Dropout" => new UnaryOperator(A("ratio", "is_test", "seed"), opset),
            "Identity" => new UnaryOperator(A(), opset),
            "MaxPool" => new PoolOperator(A("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"), max: true),
            "AveragePool" => new PoolOperator(A("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"), max: false),
            "GlobalAveragePool" => new GlobalAveragePoolOperator(A()),
            "Concat" => new ConcatOperator(A("axis"), opset),
            "Softmax" => new SoftmaxOperator(A("axis"), opset),
            "Gemm" => new GemmOperator(A("alpha", "beta", "transA", "transB")),
            "MatMul" => new MatMulOperator(A()),
            "Add" or "Sub" or "Mul" or "Div" => new BinaryOperator(A()),
            "Flatten" => new ShapeOperator(A("axis"), opset),
            "Reshape" => new ShapeOperator(opset < 5 ? A("shape") : A("allowzero"), opset),
            "BatchNormalization" => new BatchNormalizationOperator(A("epsilon", "momentum", "spatial", "training_mode", "is_test")),
            "Constant" => new ConstantOperator(A("value", "value_float", "value_floats", "value_int", "value_ints")),
            "Pad" => new PadOperator(opset < 11 ? A("mode", "pads", "paddings", "value") : A("mode"), opset),
            "Cast" => new CastOperator(A("to", "saturate")),
            _ => throw new NotSupportedException($"{source}: {node.Describe()}: operator {node.OpType} is not supported (supported: {string.Join(", ", SupportedOperators)})."),
        };
    }
}
