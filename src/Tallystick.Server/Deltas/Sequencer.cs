using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Server.Storage;
using Tallystick.Server.TransparencyLog;

namespace Tallystick.Server.Deltas;

/// <summary>
/// The single writer. One dedicated thread drains queued emits, and in one SQLite transaction per iteration
/// (group commit: one fsync for many requests) sequences them — customer sequence numbers, item hashes, receipt
/// roots, log entries — and integrates the log entries committed by earlier iterations into the Merkle tree,
/// signing a checkpoint that makes them VERIFIED. Emits are answered only after their transaction commits.
/// </summary>
internal sealed partial class Sequencer : IHostedService, IDisposable
{
    /// <summary>Deltas waiting for the sequencer; beyond this, emits are refused with 503 and Retry-After.</summary>
    public const int QueueDeltasMax = 100_000;

    /// <summary>Deltas sequenced in one transaction at most.</summary>
    public const int GroupCommitDeltasMax = 20_000;

    /// <summary>Items cached in the customer-state cache before it is emptied.</summary>
    public const int CustomerCacheEntriesMax = 200_000;

    private readonly Database _database;
    private readonly LogIdentity _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _checkpointInterval;
    private readonly TimeSpan _idempotencyRetention;
    private readonly ConcurrentQueue<WorkItem> _queue = new();
    // No spinning: on a small machine a spinning sequencer steals the core the requests need.
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private int _submitting;
    private readonly Dictionary<(long Number, string Text), CustomerState> _customers = new(KeyComparer.Instance);
    private readonly List<byte[]> _unintegrated = [];
    private Thread? _thread;
    private bool _stopping;
    private int _queuedDeltas;
    private volatile LogHead _head;
    private LogHead _committed;
    private readonly CommitSyncer _syncer;
    private volatile Exception? _fault;
    private SqliteConnection? _writer;
    private WriterCommands? _commands;
    private TileStore _tiles = TileStore.Empty();
    private CompactRange _range = new();
    private long _nextDeltaId;
    private long _nextRecordId;
    private long _nextCustomerKey;
    private long _lastAcceptedAt;
    private long _lastCheckpointTimestamp;
    private long _oldestUnintegratedAt;
    private long _lastPurgeTimestamp;

    public Sequencer(Database database, LogIdentity log, TimeProvider time, ILogger<Sequencer> logger,
        TallyOptions options)
    {
        _database = database;
        _log = log;
        _time = time;
        _logger = logger;
        _checkpointInterval = options.CheckpointInterval;
        _idempotencyRetention = options.IdempotencyRetention;
        _head = _committed = new LogHead(0, 0, 0, Rfc6962.EmptyRoot(), "", 0, 0);
        _syncer = new CommitSyncer(head => _head = head, ErrorAnswer(RenderFailed), logger);
        LoadState();
    }

    public LogHead Head => _head;

    /// <summary>
    /// Called inside every transaction that sequences log entries or makes them VERIFIED, before it commits, so
    /// another capability can write rows that must commit atomically with that state (the webhook outbox: no
    /// event for state that did not commit, no committed state without its event). Runs on the sequencer thread;
    /// an exception fails the whole group commit. Set once at startup.
    /// </summary>
    internal Action<CommitContext>? OnCommit { get; set; }

    /// <summary>
    /// Fault injection for tests: called before every commit; an exception it returns is thrown there, as if the
    /// store (SqliteException) or the code (anything else) had failed mid-transaction. Null in production.
    /// </summary>
    internal Func<Exception?>? FaultBeforeCommit { get; set; }

    /// <summary>Deltas accepted into the queue and not yet through a transaction.</summary>
    public int QueuedDeltas => Volatile.Read(ref _queuedDeltas);

    public string Origin => _log.Origin;

    public NoteVerifier Verifier => _log.Verifier;

    /// <summary>Why the pipeline is unhealthy, or null.</summary>
    public string? Problem
    {
        get
        {
            if (_fault is { } fault)
            {
                return $"sequencer failed: {fault.Message}";
            }
            var head = _head;
            if (head.SequencedSize > head.CheckpointSize && head.OldestUnintegratedAtUnixMs > 0 &&
                _time.GetUtcNow().ToUnixTimeMilliseconds() - head.OldestUnintegratedAtUnixMs > 30_000)
            {
                return "verification pipeline stalled: entries have waited more than 30 s for a checkpoint";
            }
            return _thread is { IsAlive: true } || Volatile.Read(ref _stopping) ? null : "sequencer is not running";
        }
    }

    /// <summary>Queues an emit; false when the queue is full or the sequencer is stopping (answer 503).</summary>
    public bool TrySubmit(WorkItem item)
    {
        // Lock-free (a lock here was contended by every request thread). The thread stops only when it has seen
        // _stopping, then _submitting == 0, then an empty queue: a submitter that raced past the _stopping check
        // is either still counted in _submitting or has already queued its item.
        Interlocked.Increment(ref _submitting);
        try
        {
            if (Volatile.Read(ref _stopping))
            {
                return false;
            }
            if (Interlocked.Add(ref _queuedDeltas, item.DeltaCount) > QueueDeltasMax)
            {
                Interlocked.Add(ref _queuedDeltas, -item.DeltaCount);
                return false;
            }
            _queue.Enqueue(item);
        }
        finally
        {
            Interlocked.Decrement(ref _submitting);
        }
        _wake.Set();
        return true;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "tally-sequencer" };
        _thread.Start();
        return Task.CompletedTask;
    }

    /// <summary>Drains what was queued, signs a final checkpoint, checkpoints the WAL and closes the database.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _stopping, true);
        _wake.Set();
        _thread?.Join();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _syncer.Dispose();
        _commands?.Dispose();
        _writer?.Dispose();
        _wake.Dispose();
    }

    private void Run()
    {
        var batch = new List<WorkItem>();
        var failures = 0;
        while (true)
        {
            var stopping = Volatile.Read(ref _stopping);
            _wake.Reset();
            Drain(batch);
            var integrate = _unintegrated.Count > 0 && (stopping || CheckpointDue());
            if (batch.Count == 0 && !integrate)
            {
                if (stopping && Volatile.Read(ref _submitting) == 0 && _queue.IsEmpty)
                {
                    break;
                }
                _wake.Wait(stopping ? TimeSpan.FromMilliseconds(1)
                    : _unintegrated.Count > 0 ? _checkpointInterval : TimeSpan.FromMilliseconds(500));
                PurgeIdempotencyKeysIfDue();
                if (_queue.IsEmpty)
                {
                    RewindWalIfDue(WalCheckpointer.IdleWalBytesMax);
                }
                continue;
            }
            try
            {
                Iterate(batch, integrate);
                failures = 0;
                _fault = null;
                RewindWalIfDue(WalCheckpointer.WalBytesMax);
            }
            catch (Exception e) when (e is SqliteException or StoreUnavailableException or IOException)
            {
                failures++;
                _fault = e;
                _logger.LogError(e, "sequencer transaction failed; {Count} requests answered 503", batch.Count);
                Fail(batch, Unavailable);
                Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(5000, 50 * failures)));
                TryReload();
            }
            catch (Exception e)
            {
                // A bug, not an operating condition: nothing of the transaction was committed, so answer 500,
                // rebuild memory from what is durable, and stay unready until an iteration succeeds.
                failures++;
                _fault = e;
                _logger.LogCritical(e, "sequencer invariant broken; {Count} requests answered 500", batch.Count);
                Fail(batch, Internal);
                TryReload();
            }
            finally
            {
                Interlocked.Add(ref _queuedDeltas, -batch.Sum(w => w.DeltaCount));
                batch.Clear();
            }
        }
        Shutdown();
    }

    private long _lastWalCheckTimestamp;

    private void RewindWalIfDue(long threshold)
    {
        if (_time.GetElapsedTime(_lastWalCheckTimestamp) < WalCheckpointer.RewindCheckInterval)
        {
            return;
        }
        _lastWalCheckTimestamp = _time.GetTimestamp();
        try
        {
            WalCheckpointer.RewindIfLarge(_writer!, _database.FilePath + "-wal", threshold);
        }
        catch (SqliteException e)
        {
            _logger.LogWarning(e, "WAL rewind checkpoint failed; will retry");
        }
    }

    private void Drain(List<WorkItem> batch)
    {
        var deltas = 0;
        while (deltas < GroupCommitDeltasMax && _queue.TryDequeue(out var item))
        {
            batch.Add(item);
            deltas += item.DeltaCount;
        }
    }

    private bool CheckpointDue() =>
        _time.GetElapsedTime(_lastCheckpointTimestamp) >= _checkpointInterval;

    private void Iterate(List<WorkItem> batch, bool integrate)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        // Acceptance times never go backwards, so time order and sequence order agree (period scopes rely on it).
        var acceptedAt = Math.Max(now, _lastAcceptedAt);
        var integrating = integrate ? _unintegrated.Count : 0;
        var sequencedFrom = _range.Size + _unintegrated.Count;
        var verifiedFrom = _range.Size;
        if (integrating > 0)
        {
            _committed = _committed with { ProcessingSize = _range.Size + integrating };
            _syncer.Enqueue(new CommitSyncer.Commit(_committed, null));
        }
        _transactionReferences.Clear();
        using var turn = _database.Turns.Sequencer();
        using var transaction = _writer!.BeginTransaction(deferred: false);
        _commands!.Bind(transaction);
        var answers = new List<(WorkItem Item, Func<Answer> Render)>(batch.Count);
        var sequenced = new List<byte[]>();
        LogAppendContext? appendContext = null;
        foreach (var item in batch)
        {
            if (item.Append is { } append)
            {
                appendContext ??= new LogAppendContext(_writer, transaction, acceptedAt, _head, entry =>
                {
                    var index = _range.Size + _unintegrated.Count + sequenced.Count;
                    if (entry is null)
                    {
                        return index;
                    }
                    _commands.InsertLogEntry(index, entry);
                    sequenced.Add(Rfc6962.HashLeaf(entry));
                    return index;
                });
                answers.Add((item, append(appendContext)));
                continue;
            }
            answers.Add((item, Sequence(item, acceptedAt, sequenced)));
        }
        SignedCheckpoint? checkpoint = null;
        if (integrating > 0)
        {
            checkpoint = Integrate(transaction, integrating, now);
        }
        if (OnCommit is { } hook && (sequenced.Count > 0 || checkpoint is not null))
        {
            hook(new CommitContext(_writer, transaction, sequencedFrom, sequencedFrom + sequenced.Count, verifiedFrom,
                _range.Size, now, checkpoint?.Note));
        }
        if (FaultBeforeCommit?.Invoke() is { } fault)
        {
            throw fault;
        }
        transaction.Commit();
        _lastAcceptedAt = acceptedAt;
        foreach (var state in _pendingNewCustomers)
        {
            state.IsNew = false;
        }
        _pendingNewCustomers.Clear();
        if (checkpoint is not null)
        {
            _unintegrated.RemoveRange(0, integrating);
            _lastCheckpointTimestamp = _time.GetTimestamp();
            _oldestUnintegratedAt = _unintegrated.Count > 0 ? acceptedAt : 0;
        }
        if (sequenced.Count > 0 && _oldestUnintegratedAt == 0)
        {
            _oldestUnintegratedAt = acceptedAt;
        }
        _unintegrated.AddRange(sequenced);
        _committed = checkpoint is null
            ? _committed with { SequencedSize = _range.Size + _unintegrated.Count, OldestUnintegratedAtUnixMs = _oldestUnintegratedAt,
                DeltasBelow = _nextDeltaId }
            : new LogHead(_range.Size + _unintegrated.Count, checkpoint.Size, checkpoint.Size, checkpoint.Root,
                checkpoint.Note, checkpoint.SignedAtUnixMs, _oldestUnintegratedAt, _nextDeltaId);
        // Answered and published by the syncer once the WAL holding this transaction is on disk.
        _syncer.Enqueue(new CommitSyncer.Commit(_committed, answers));
    }

    private sealed record SignedCheckpoint(long Size, byte[] Root, string Note, long SignedAtUnixMs);

    private SignedCheckpoint Integrate(SqliteTransaction transaction, int count, long now)
    {
        for (var i = 0; i < count; i++)
        {
            _tiles.Append(_unintegrated[i]);
            _range.Append(_unintegrated[i]);
        }
        var root = _range.Root();
        var note = _log.Signer.Sign(new Checkpoint(_log.Origin, _range.Size, root).ToNoteText());
        _tiles.Flush(_writer!, transaction);
        _commands!.InsertCheckpoint(_range.Size, root, note, now);
        return new SignedCheckpoint(_range.Size, root, note, now);
    }

    private static readonly ApiError Unavailable = new("SERVICE_UNAVAILABLE",
        "the ledger store is unavailable; nothing was recorded, retry", RetryAfterSeconds: 1);

    private static readonly ApiError Internal = new("INTERNAL_ERROR",
        "an internal error occurred; nothing was recorded and it has been logged");

    private static readonly ApiError RenderFailed = new("INTERNAL_ERROR",
        "the request was recorded but its answer could not be rendered (logged); repeat it with the same " +
        "Idempotency-Key or referenceId to read the original record");

    private static Answer ErrorAnswer(ApiError error) => new(error.HttpStatus,
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(error.ToEnvelope(), Wire.WireJson.Default.ErrorEnvelope));

    private static void Fail(List<WorkItem> batch, ApiError error)
    {
        var answer = ErrorAnswer(error);
        foreach (var item in batch)
        {
            item.Completion.TrySetResult(answer);
        }
    }

    private void TryReload()
    {
        try
        {
            _syncer.Drain();
            LoadState();
        }
        catch (Exception e)
        {
            _fault = e;
            _logger.LogCritical(e, "sequencer could not reload its state; emits will fail until it can");
        }
    }

    private void Shutdown()
    {
        _syncer.Drain();
        try
        {
            using var command = _writer!.CreateCommand();
            command.CommandText = "PRAGMA main.wal_checkpoint(TRUNCATE)";
            command.ExecuteNonQuery();
        }
        catch (SqliteException e)
        {
            _logger.LogWarning(e, "final WAL checkpoint failed; the WAL will be replayed at next start");
        }
    }
}
