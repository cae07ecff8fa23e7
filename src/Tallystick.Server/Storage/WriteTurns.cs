namespace Tallystick.Server.Storage;

/// <summary>
/// Hands SQLite's single write lock between the sequencer and the other in-process writer that writes all the time
/// (the webhook dispatcher) without SQLite's busy handler. When a writer finds the lock taken, the busy handler sleeps
/// 1, 2, 5 … 100 ms between tries; the sequencer under load releases the lock for microseconds between group commits,
/// so the dispatcher waited hundreds of milliseconds for a turn (deliveries fell behind), and when the dispatcher did
/// hold it, the sequencer's next commit slept the same way (emits slowed). Here a writer takes its turn before
/// beginning its transaction and gives it back after commit or rollback; a waiting dispatcher goes before the
/// sequencer's next transaction, since its transactions are short and few. Writers that do not take turns
/// (administrative writes, other processes) still meet the busy handler, as before. Thread-safe.
/// </summary>
internal sealed class WriteTurns
{
    private readonly object _gate = new(); // a Monitor: Wait/PulseAll need one (System.Threading.Lock has no wait)
    private bool _held;
    private int _othersWaiting;

    /// <summary>The sequencer's turn: waits while another writer holds or waits for one.</summary>
    public Turn Sequencer()
    {
        lock (_gate)
        {
            while (_held || _othersWaiting > 0)
            {
                Monitor.Wait(_gate);
            }
            _held = true;
        }
        return new Turn(this);
    }

    /// <summary>Another writer's turn: waits only while a transaction holds the turn.</summary>
    public Turn Other()
    {
        lock (_gate)
        {
            _othersWaiting++;
            try
            {
                while (_held)
                {
                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                _othersWaiting--;
            }
            _held = true;
        }
        return new Turn(this);
    }

    private void Release()
    {
        lock (_gate)
        {
            _held = false;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>A held turn; disposing it (once) gives it back.</summary>
    public readonly struct Turn(WriteTurns owner) : IDisposable
    {
        public void Dispose() => owner.Release();
    }
}
