using Microsoft.Extensions.Logging;

namespace Tallystick.Server.Deltas;

/// <summary>
/// The second half of group commit. The sequencer commits each transaction to the WAL without waiting for the
/// disk (<c>synchronous = NORMAL</c>) and hands the commit here; this thread fsyncs the WAL file, then, in commit
/// order, publishes the new <see cref="LogHead"/> and answers the commit's requests. One fsync covers every
/// transaction committed before it started, and the sequencer builds the next transaction while the disk
/// flushes the previous one. Nothing is acknowledged or published before it is durable: a 2xx still means "on
/// disk", and a signed checkpoint becomes visible only once it can no longer be lost (a log must never show a
/// checkpoint it could later contradict).
/// </summary>
internal sealed class CommitSyncer : IDisposable
{
    /// <summary>Commits waiting for an fsync at most; beyond this the sequencer waits (backpressure).</summary>
    public const int PendingCommitsMax = 64;

    private readonly object _gate = new();
    private readonly Queue<Commit> _pending = new();
    private readonly Action<LogHead> _publish;
    private readonly Answer _renderFailed;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private FileStream? _wal;
    private bool _stopping;
    private int _inFlight;

    /// <summary>
    /// A committed transaction: the head it produced and the answers it owes (null: nothing to answer). An answer
    /// is rendered here, after the fsync, unless the sequencer had to render it already (to store it with an
    /// Idempotency-Key): rendering JSON is work the sequencer thread need not do.
    /// </summary>
    internal sealed record Commit(LogHead Head, List<(WorkItem Item, Func<Answer> Render)>? Answers);

    public CommitSyncer(Action<LogHead> publish, Answer renderFailed, ILogger logger)
    {
        _publish = publish;
        _renderFailed = renderFailed;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "tally-fsync" };
        _thread.Start();
    }

    /// <summary>
    /// (Re)opens the WAL file to flush. Call with every new writer connection, after it has opened the database,
    /// and only when nothing is pending (<see cref="Drain"/>).
    /// </summary>
    public void Attach(string walPath)
    {
        _wal?.Dispose();
        // Write access is needed for FileStream.Flush(true) to fsync; nothing is ever written through it.
        _wal = new FileStream(walPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
    }

    /// <summary>Queues a commit; blocks while <see cref="PendingCommitsMax"/> commits wait for the disk.</summary>
    public void Enqueue(Commit commit)
    {
        lock (_gate)
        {
            while (_pending.Count >= PendingCommitsMax)
            {
                Monitor.Wait(_gate);
            }
            _pending.Enqueue(commit);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Flushes the WAL now on the caller's thread (for writes made outside a sequenced commit).</summary>
    public void SyncNow() => _wal?.Flush(flushToDisk: true);

    /// <summary>Waits until every queued commit has been made durable and answered.</summary>
    public void Drain()
    {
        lock (_gate)
        {
            while (_pending.Count > 0 || _inFlight > 0)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    public void Dispose()
    {
        Drain();
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
        _wal?.Dispose();
    }

    private void Run()
    {
        var batch = new List<Commit>();
        while (true)
        {
            lock (_gate)
            {
                while (_pending.Count == 0 && !_stopping)
                {
                    Monitor.Wait(_gate);
                }
                if (_pending.Count == 0)
                {
                    return;
                }
                batch.AddRange(_pending);
                _pending.Clear();
                _inFlight = batch.Count;
                Monitor.PulseAll(_gate);
            }
            Sync();
            foreach (var commit in batch)
            {
                _publish(commit.Head);
                if (commit.Answers is { } answers)
                {
                    foreach (var (item, render) in answers)
                    {
                        item.Completion.TrySetResult(Render(render));
                    }
                }
            }
            batch.Clear();
            lock (_gate)
            {
                _inFlight = 0;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private Answer Render(Func<Answer> render)
    {
        try
        {
            return render();
        }
        catch (Exception e)
        {
            // A bug in rendering: the delta is recorded (and durable), only its answer is lost; say so.
            _logger.LogCritical(e, "rendering an emit answer failed after its transaction committed");
            return _renderFailed;
        }
    }

    private void Sync()
    {
        try
        {
            SyncNow();
        }
        catch (IOException e)
        {
            // After a failed fsync the kernel may have dropped the dirty pages: the WAL's true content is unknown,
            // so nothing may be acknowledged and the process must not go on as if it were. Restarting recovers
            // exactly what reached the disk (PostgreSQL makes the same choice).
            _logger.LogCritical(e, "fsync of the WAL failed; stopping the process so that recovery decides what is durable");
            Environment.FailFast("tallystick: fsync of the WAL failed: " + e.Message, e);
        }
    }
}
