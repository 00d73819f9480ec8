namespace CrossModal.Cli;

/// <summary>
/// Progress on stderr: a redrawn bar when stderr is a terminal, nothing otherwise (logs stay clean; the per-epoch
/// lines are printed regardless).
/// </summary>
internal sealed class ConsoleProgress
{
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private DateTime _last = DateTime.MinValue;
    private int _width;

    /// <summary>Redraws "label [#####.....] done/total suffix" at most 10 times a second.</summary>
    public void Update(string label, long done, long total, string suffix = "")
    {
        if (!_interactive) return;
        var now = DateTime.UtcNow;
        if (done < total && (now - _last).TotalMilliseconds < 100) return;
        _last = now;
        const int bar = 30;
        int filled = total <= 0 ? 0 : (int)(bar * Math.Min(1.0, (double)done / total));
        string line = $"\r{label} [{new string('#', filled)}{new string('.', bar - filled)}] {done}/{total} {suffix}";
        _width = Math.Max(_width, line.Length);
        Console.Error.Write(line.PadRight(_width));
    }

    /// <summary>Clears the bar line.</summary>
    public void Clear()
    {
        if (!_interactive || _width == 0) return;
        Console.Error.Write("\r" + new string(' ', _width) + "\r");
        _width = 0;
    }
}
