namespace CrossModal.Models.Naaf;

/// <summary>
/// NAAF's threshold learning ("Discriminative Mismatch Mining", model.xattn_score) for one training batch, exactly
/// as the original runs it caption by caption inside the forward pass:
/// <list type="number">
/// <item>caption i is scored against every image with the current <c>thres</c>;</item>
/// <item>if its best image (first index of the maximum) is its own image i, the maxima over regions of the raw
/// word-region similarities of its words against image i (matched samples) and against its lowest-scoring image
/// (first index of the minimum; mismatched samples) are collected;</item>
/// <item>once more than 200 words are collected in this batch, every further correct caption triggers an update from
/// all samples so far: μ/σ (unbiased) of both, A = σp² − σn², B = 2(μp σn² − μn σp²),
/// C = (μn σp)² − (μp σn)² + 2 (σp σn)² ln(σn / (α σp) + 1e-8), E = B² − 4AC; if E &gt; 0,
/// thres = (−B + √E) / (2A + 1e-10) and thres_safe = μp − 3σp; each replaced by 0 outside [0, 1]; then smoothed
/// 0.7 · new + 0.3 · previous;</item>
/// <item>after every caption, while fewer than 200 words are collected, thres and thres_safe are reset to 0 (so the
/// first captions of every batch after the first are scored with the previous batch's last threshold, the
/// following ones with 0 until the trigger). With exactly 200 words neither happens.</item>
/// </list>
/// </summary>
internal sealed class MismatchMining
{
    private const int Trigger = 200;
    private readonly ThresholdState _state;
    private readonly double _alpha;
    private readonly List<float> _pos = new(), _neg = new();
    private int _words;

    public MismatchMining(ThresholdState state, double alpha, MiningTrace? trace)
    {
        _state = state;
        _alpha = alpha;
        Trace = trace;
    }

    public MiningTrace? Trace { get; }

    /// <summary>The threshold the next caption is scored with.</summary>
    public float Threshold => _state.Thres;

    /// <summary>
    /// After caption <paramref name="i"/> was scored with <see cref="Threshold"/>: <paramref name="sims"/> holds its
    /// score against every image; image k's raw word maxima of this caption are rawMax[k * ld + q0 .. + n).
    /// </summary>
    public void AfterCaption(int i, ReadOnlySpan<float> sims, ReadOnlySpan<float> rawMax, int ld, int q0, int n)
    {
        Trace?.ThresholdUsed.Add(_state.Thres);
        int best = 0, worst = 0;
        for (int k = 1; k < sims.Length; k++)
        {
            if (sims[k] > sims[best]) best = k;
            if (sims[k] < sims[worst]) worst = k;
        }
        bool correct = best == i;
        if (correct)
        {
            _pos.AddRange(rawMax.Slice(i * ld + q0, n));
            _neg.AddRange(rawMax.Slice(worst * ld + q0, n));
            _words += n;
            if (_words > Trigger) Update();
        }
        if (_words < Trigger)
        {
            _state.Thres = 0f;
            _state.ThresSafe = 0f;
        }
        Trace?.Correct.Add(correct);
        Trace?.NegativeIndex.Add(correct ? worst : -1);
    }

    private void Update()
    {
        var (mp, sp) = MeanStd(_pos);
        var (mn, sn) = MeanStd(_neg);
        double a = sp * sp - sn * sn;
        double b = 2 * (mp * sn * sn - mn * sp * sp);
        double c = (mn * sp) * (mn * sp) - (mp * sn) * (mp * sn) + 2 * (sp * sn) * (sp * sn) * Math.Log(sn / (_alpha * sp) + 1e-8);
        double previous = _state.Thres, previousSafe = _state.ThresSafe;
        _state.MeanPos = (float)mp;
        _state.StndPos = (float)sp;
        _state.MeanNeg = (float)mn;
        _state.StndNeg = (float)sn;
        double e = b * b - 4 * a * c;
        double thres = previous, safe = previousSafe;
        if (e > 0)
        {
            thres = (-b + Math.Sqrt(e)) / (2 * a + 1e-10);
            safe = mp - 3 * sp;
        }
        if (thres < 0 || thres > 1) thres = 0;
        if (safe < 0 || safe > 1) safe = 0;
        _state.Thres = (float)(0.7 * thres + 0.3 * previous);
        _state.ThresSafe = (float)(0.7 * safe + 0.3 * previousSafe);
        if (Trace is not null) Trace.Updates++;
    }

    private static (double Mean, double Std) MeanStd(List<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += v;
        double mean = sum / values.Count, ss = 0;
        foreach (float v in values) ss += (v - mean) * (v - mean);
        return (mean, Math.Sqrt(ss / (values.Count - 1)));
    }
}
