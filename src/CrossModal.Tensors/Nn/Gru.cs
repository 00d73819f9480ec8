using CrossModal.Tensors.Autograd;
using CrossModal.Tensors.Kernels;
using CrossModal.Tensors.Threading;

namespace CrossModal.Tensors.Nn;

/// <summary>
/// torch.nn.GRU with batch_first=True fed a packed sequence: input [B, T, I] zero-padded, lengths per row (any
/// order; each 1..T). Returns the padded output [B, T, D*H] (D = 2 when bidirectional, directions concatenated,
/// padded positions zero) and the final states [L*D, B, H] (the state at each row's last valid step; for the
/// reverse direction the state after step 0). Parameters are named as PyTorch names them: weight_ih_l{k}[_reverse]
/// [3H, in], weight_hh_l{k}[_reverse] [3H, H], bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse], initialised
/// U(-1/sqrt(H), 1/sqrt(H)). The two directions of a layer run on separate cores. No inter-layer dropout.
/// </summary>
public sealed class Gru : Module
{
    private readonly Tensor[] _wih, _whh, _bih, _bhh; // indexed [layer * D + direction]

    /// <summary>Creates the layer with PyTorch's default initialisation.</summary>
    public Gru(int inputSize, int hiddenSize, Rng rng, int numLayers = 1, bool bidirectional = false)
    {
        if (numLayers < 1) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "A GRU needs at least one layer.");
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bidirectional = bidirectional;
        int d = Directions;
        _wih = new Tensor[numLayers * d];
        _whh = new Tensor[numLayers * d];
        _bih = new Tensor[numLayers * d];
        _bhh = new Tensor[numLayers * d];
        float k = 1f / MathF.Sqrt(hiddenSize);
        for (int l = 0; l < numLayers; l++)
        {
            int inSize = l == 0 ? inputSize : hiddenSize * d;
            for (int dir = 0; dir < d; dir++)
            {
                string sfx = $"_l{l}" + (dir == 1 ? "_reverse" : "");
                int i = l * d + dir;
                _wih[i] = RegisterParameter("weight_ih" + sfx, Tensor.Zeros(3 * hiddenSize, inSize));
                _whh[i] = RegisterParameter("weight_hh" + sfx, Tensor.Zeros(3 * hiddenSize, hiddenSize));
                _bih[i] = RegisterParameter("bias_ih" + sfx, Tensor.Zeros(3 * hiddenSize));
                _bhh[i] = RegisterParameter("bias_hh" + sfx, Tensor.Zeros(3 * hiddenSize));
            }
        }
        // PyTorch initialises every parameter in registration order with U(-k, k).
        foreach (var (_, p) in NamedParameters()) Init.Uniform(p, k, rng);
    }

    /// <summary>Input features.</summary>
    public int InputSize { get; }

    /// <summary>Hidden size H.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked layers.</summary>
    public int NumLayers { get; }

    /// <summary>Whether a reverse direction runs too.</summary>
    public bool Bidirectional { get; }

    /// <summary>1 or 2.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Runs the GRU (see the type's summary). <paramref name="h0"/> [L*D, B, H] defaults to zeros.</summary>
    public (Tensor Output, Tensor Hidden) Forward(Tensor x, ReadOnlySpan<int> lengths, Tensor? h0 = null)
    {
        if (x.Rank != 3 || x.Dim(2) != InputSize)
            throw new ArgumentException($"GRU({InputSize}->{HiddenSize}): input {Tensor.FormatShape(x.ShapeSpan)} is not [B, T, {InputSize}].");
        int b = x.Dim(0), t = x.Dim(1), h = HiddenSize, d = Directions;
        if (lengths.Length != b) throw new ArgumentException($"GRU: {lengths.Length} lengths for a batch of {b}.");
        foreach (int len in lengths)
            if (len < 1 || len > t) throw new ArgumentException($"GRU: sequence length {len} outside 1..{t}.");
        if (h0 is not null && (h0.Rank != 3 || h0.Dim(0) != NumLayers * d || h0.Dim(1) != b || h0.Dim(2) != h))
            throw new ArgumentException($"GRU: h0 {Tensor.FormatShape(h0.ShapeSpan)} is not [{NumLayers * d}, {b}, {h}].");

        var inputs = new List<Tensor> { x };
        if (h0 is not null) inputs.Add(h0);
        inputs.AddRange(Parameters());
        bool record = Tape.Needs(inputs);

        var hidden = Tensor.Empty(NumLayers * d, b, h);
        var layerInputs = new Tensor[NumLayers];
        var sequences = new GruSequence[NumLayers * d];
        Tensor layerIn = x;
        var lens = lengths.ToArray();
        for (int l = 0; l < NumLayers; l++)
        {
            layerInputs[l] = layerIn;
            var layerOut = Tensor.Empty(b, t, d * h);
            int inSize = layerIn.Dim(2);
            for (int dir = 0; dir < d; dir++)
                sequences[l * d + dir] = new GruSequence(b, t, inSize, h, lens, reverse: dir == 1, saveForBackward: record);
            var src = layerIn;
            Parallelism.ForEachTask(d, dir =>
            {
                int i = l * d + dir;
                sequences[i].Forward(src.Data, _wih[i].Data, _whh[i].Data, _bih[i].Data, _bhh[i].Data,
                    h0 is null ? ReadOnlySpan<float>.Empty : h0.Data.Slice(i * b * h, b * h),
                    layerOut.Data, d * h, dir * h, hidden.Data.Slice(i * b * h, b * h));
            });
            layerIn = layerOut;
        }
        var output = layerIn;
        if (record)
        {
            Tape.Record(new[] { output, hidden }, () => Backward(x, h0, output, hidden, layerInputs, sequences, b, t));
        }
        return (output, hidden);
    }

    private void Backward(Tensor x, Tensor? h0, Tensor output, Tensor hidden, Tensor[] layerInputs, GruSequence[] sequences, int b, int t)
    {
        int h = HiddenSize, d = Directions;
        var dOut = output.Grad;
        var dHidden = hidden.Grad;
        float[]? dh0All = h0 is not null && h0.RequiresGrad ? new float[h0.Length] : null;
        // Gradient flowing into the current layer's output, flat [B*T, D*H] (empty = zero): the output's own
        // gradient for the top layer, then the pooled dX of the layer above (returned once consumed). No copies.
        ReadOnlyMemory<float> dLayerOut = dOut is null ? default : dOut.Buffer.AsMemory(dOut.Offset, dOut.Length);
        float[]? dLayerOutBuffer = null;
        for (int l = NumLayers - 1; l >= 0; l--)
        {
            var input = layerInputs[l];
            int inSize = input.Dim(2);
            // The bottom layer's input gradient (one GEMM per direction) is only computed when x wants it.
            bool needDx = l > 0 || x.RequiresGrad;
            int dxLength = needDx ? b * t * inSize : 0;
            var dxParts = new float[d][];
            for (int dir = 0; dir < d; dir++) dxParts[dir] = needDx ? TensorPool.Rent(dxLength) : Array.Empty<float>();
            // Gradient buffers are created on this thread (TensorScope is per thread); filled on workers.
            var wihG = new (float[] Buf, bool Acc)[d];
            var whhG = new (float[] Buf, bool Acc)[d];
            var bihG = new (float[] Buf, bool Acc)[d];
            var bhhG = new (float[] Buf, bool Acc)[d];
            for (int dir = 0; dir < d; dir++)
            {
                int i = l * d + dir;
                wihG[dir] = GradArray(_wih[i]);
                whhG[dir] = GradArray(_whh[i]);
                bihG[dir] = GradArray(_bih[i]);
                bhhG[dir] = GradArray(_bhh[i]);
            }
            var dOutLocal = dLayerOut;
            Parallelism.ForEachTask(d, dir =>
            {
                int i = l * d + dir;
                sequences[i].Backward(input.Data, _wih[i].Data, _whh[i].Data,
                    dOutLocal.Span, d * h, dir * h,
                    dHidden is null ? ReadOnlySpan<float>.Empty : dHidden.Data.Slice(i * b * h, b * h),
                    dxParts[dir].AsSpan(0, dxLength),
                    GradSpan(_wih[i], wihG[dir].Buf), wihG[dir].Acc, GradSpan(_whh[i], whhG[dir].Buf), whhG[dir].Acc,
                    GradSpan(_bih[i], bihG[dir].Buf), bihG[dir].Acc, GradSpan(_bhh[i], bhhG[dir].Buf), bhhG[dir].Acc,
                    dh0All is null ? Span<float>.Empty : dh0All.AsSpan(i * b * h, b * h));
            });
            if (dLayerOutBuffer is not null) TensorPool.Return(dLayerOutBuffer);
            dLayerOutBuffer = null;
            if (!needDx) continue;
            var dx = dxParts[0].AsSpan(0, dxLength);
            for (int dir = 1; dir < d; dir++) Elementwise.AddInPlace(dx, dxParts[dir].AsSpan(0, dxLength));
            if (l > 0)
            {
                dLayerOut = dxParts[0].AsMemory(0, dxLength);
                dLayerOutBuffer = dxParts[0];
            }
            else
            {
                x.AccumulateGrad(dx);
                TensorPool.Return(dxParts[0]);
            }
            for (int dir = 1; dir < d; dir++) TensorPool.Return(dxParts[dir]);
        }
        if (dh0All is not null) h0!.AccumulateGrad(dh0All);
    }

    private static (float[] Buf, bool Acc) GradArray(Tensor p)
    {
        p.GradBuffer(out bool acc);
        return (p.Grad!.Buffer, acc);
    }

    private static Span<float> GradSpan(Tensor p, float[] buffer) => buffer.AsSpan(p.Grad!.Offset, p.Length);
}
