namespace CrossModal.Models.Vsrn;

/// <summary>
/// Which (step, row) pairs a teacher-forced decoder runs, numbered as "slots" step by step: row b runs steps
/// 0 .. Steps[b] - 1, the rows' step counts do not increase down the batch (captions sorted by length, as VSRN's
/// batches are), so the rows active at step s are the prefix 0 .. Active[s] - 1 and slot (s, k) = SlotStart[s] + k.
/// Everything a step keeps is stored in slot order, so steps a row does not need cost nothing.
/// </summary>
internal sealed class SlotLayout
{
    public SlotLayout(int[] steps)
    {
        Rows = steps.Length;
        Steps = (int[])steps.Clone();
        for (int b = 0; b < Rows; b++)
        {
            if (steps[b] < 0) throw new ArgumentException($"Row {b} has a negative step count {steps[b]}.");
            if (b > 0 && steps[b] > steps[b - 1])
                throw new ArgumentException($"Decoder step counts must not increase down the batch (captions sorted by length); row {b} has {steps[b]} after {steps[b - 1]}.");
        }
        int maxSteps = Rows == 0 ? 0 : steps[0];
        Active = new int[maxSteps];
        SlotStart = new int[maxSteps + 1];
        for (int s = 0; s < maxSteps; s++)
        {
            int a = 0;
            while (a < Rows && steps[a] > s) a++;
            Active[s] = a;
            SlotStart[s + 1] = SlotStart[s] + a;
        }
        Count = SlotStart[maxSteps];
    }

    /// <summary>Batch rows.</summary>
    public int Rows { get; }

    /// <summary>Steps of each row.</summary>
    public int[] Steps { get; }

    /// <summary>Rows active at each step (a prefix of the batch).</summary>
    public int[] Active { get; }

    /// <summary>First slot of each step; the last entry is <see cref="Count"/>.</summary>
    public int[] SlotStart { get; }

    /// <summary>Steps run (the longest row's).</summary>
    public int StepCount => Active.Length;

    /// <summary>Total slots.</summary>
    public int Count { get; }
}
