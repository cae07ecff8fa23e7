using System.Globalization;

namespace Tallystick.Cli;

/// <summary>
/// A one-line progress bar on stderr for long operations (file emits, bench). Drawn only when stderr is a terminal,
/// so logs and captured output never fill with carriage returns; redrawn at most every
/// <see cref="RedrawIntervalMs"/> ms. Safe to call <see cref="Report"/> from several threads.
/// </summary>
internal sealed class ProgressBar : IDisposable
{
    public const int RedrawIntervalMs = 100;
    private const int BarCells = 30;

    private readonly string _label;
    private readonly long _total;
    private readonly bool _enabled;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _drawnAt;
    private bool _drawn;

    public ProgressBar(string label, long total, TimeProvider time)
    {
        _label = label;
        _total = Math.Max(total, 1);
        _time = time;
        _enabled = !Console.IsErrorRedirected;
    }

    public void Report(long done)
    {
        if (!_enabled)
        {
            return;
        }
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_drawn && done < _total && _time.GetElapsedTime(_drawnAt, now).TotalMilliseconds < RedrawIntervalMs)
            {
                return;
            }
            _drawnAt = now;
            _drawn = true;
            var fraction = Math.Clamp((double)done / _total, 0, 1);
            var filled = (int)(fraction * BarCells);
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r{_label} [{new string('#', filled)}{new string('.', BarCells - filled)}] {fraction,4:P0} " +
                $"{done}/{_total}"));
        }
    }

    /// <summary>Clears the bar so what follows starts on a clean line.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_drawn)
            {
                Console.Error.Write("\r\e[2K");
                _drawn = false;
            }
        }
    }
}
