using CrossModal.Tensors;
using CrossModal.Tensors.Autograd;

namespace CrossModal.Models.Loss;

/// <summary>
/// The hinge triplet ranking loss of VSE++/SCAN ("ContrastiveLoss"), summed over the batch. For a B x B score
/// matrix S (rows images, columns captions, diagonal = matched pairs) and margin α:
/// c_s(i,j) = [α + S(i,j) − S(i,i)]₊ and c_im(i,j) = [α + S(i,j) − S(j,j)]₊ off the diagonal.
/// Sum of hinges (VSE0): Σ c_s + Σ c_im. Max of hinges (VSE++, --max_violation): Σ_i max_j c_s(i,j) + Σ_j max_i c_im(i,j).
/// The gradient follows PyTorch's: the clamp passes it where the argument is ≥ 0, the max to its first maximum.
/// </summary>
public static class ContrastiveLoss
{
    /// <summary>The loss (a rank-0 tensor) of <paramref name="scores"/>, differentiable.</summary>
    public static Tensor Compute(Tensor scores, float margin, bool maxViolation)
    {
        if (scores.Rank != 2 || scores.Dim(0) != scores.Dim(1))
            throw new ArgumentException($"The hinge loss needs a square score matrix, got {Tensor.FormatShape(scores.ShapeSpan)}.");
        int b = scores.Dim(0);
        var s = scores.Data;
        // For each direction remember which entries contribute (with sign handled in backward).
        var rowPick = new int[b];   // caption index chosen for image i (MH), -1 if none
        var colPick = new int[b];   // image index chosen for caption j (MH), -1 if none
        double loss = 0;
        if (maxViolation)
        {
            for (int i = 0; i < b; i++)
            {
                float best = 0f; int arg = -1; bool any = false;
                for (int j = 0; j < b; j++)
                {
                    float v = j == i ? 0f : Math.Max(0f, margin + s[i * b + j] - s[i * b + i]);
                    if (!any || v > best) { best = v; arg = j; any = true; }
                }
                loss += best;
                rowPick[i] = arg != i && margin + s[i * b + arg] - s[i * b + i] >= 0f ? arg : -1;
            }
            for (int j = 0; j < b; j++)
            {
                float best = 0f; int arg = -1; bool any = false;
                for (int i = 0; i < b; i++)
                {
                    float v = i == j ? 0f : Math.Max(0f, margin + s[i * b + j] - s[j * b + j]);
                    if (!any || v > best) { best = v; arg = i; any = true; }
                }
                loss += best;
                colPick[j] = arg != j && margin + s[arg * b + j] - s[j * b + j] >= 0f ? arg : -1;
            }
        }
        else
        {
            for (int i = 0; i < b; i++)
                for (int j = 0; j < b; j++)
                {
                    if (i == j) continue;
                    loss += Math.Max(0f, margin + s[i * b + j] - s[i * b + i]);
                    loss += Math.Max(0f, margin + s[i * b + j] - s[j * b + j]);
                }
        }
        var y = Tensor.Scalar((float)loss);
        if (Tape.Needs(scores))
        {
            Tape.Record(y, g =>
            {
                float go = g.Data[0];
                var gs = new float[b * b];
                var sv = scores.Data;
                if (maxViolation)
                {
                    for (int i = 0; i < b; i++)
                        if (rowPick[i] >= 0) { gs[i * b + rowPick[i]] += go; gs[i * b + i] -= go; }
                    for (int j = 0; j < b; j++)
                        if (colPick[j] >= 0) { gs[colPick[j] * b + j] += go; gs[j * b + j] -= go; }
                }
                else
                {
                    for (int i = 0; i < b; i++)
                        for (int j = 0; j < b; j++)
                        {
                            if (i == j) continue;
                            if (margin + sv[i * b + j] - sv[i * b + i] >= 0f) { gs[i * b + j] += go; gs[i * b + i] -= go; }
                            if (margin + sv[i * b + j] - sv[j * b + j] >= 0f) { gs[i * b + j] += go; gs[j * b + j] -= go; }
                        }
                }
                scores.AccumulateGrad(gs);
            });
        }
        return y;
    }
}
