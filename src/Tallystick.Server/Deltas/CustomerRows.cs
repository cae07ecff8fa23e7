using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Deltas;

/// <summary>
/// Fills customer_rows (customer-rows.db, <see cref="Database.RowsFileName"/>) from the ledger: each generation copies
/// the durable deltas [below, hi) in (customer, seq) order, in one transaction, from its own thread and connection.
/// </summary>
/// <remarks>
/// Why a second file and deferred copies: a page of a customer's rows read from the ledger's tables costs two random
/// pages per row (derive read 100 rows in ≈ 1.2 ms); a clustered copy makes it one seek and a few pages. Kept in the
/// ledger and written with every delta, that copy cost batch ingest about 30 % (a random page per delta, on the
/// sequencer's thread); written in sorted generations it dirties each customer's newest page once for all its new
/// rows, and in its own file it never holds the ledger's write lock, so the sequencer does not wait for it.
/// <para>
/// Per customer the copied rows are a prefix of its sequence (generations are id ranges, copied in order, and a
/// customer's sequence numbers ascend with ids), so readers take what customer_rows has and the rest from the ledger.
/// Only deltas below <see cref="LogHead.DeltasBelow"/> are copied: nothing that a crash could still take from the
/// ledger. The file is never fsynced outside WAL checkpoints (<c>synchronous = NORMAL</c>): a crash loses at most the
/// newest generations, which are copied again. Deleting it while the server is stopped is safe: it is rebuilt (in
/// generations of <see cref="GenerationDeltasMax"/>, about a minute per 10M deltas, while derive reads the ledger).
/// </para>
/// </remarks>
internal sealed partial class CustomerRows : BackgroundService
{
    /// <summary>A generation starts once this many durable deltas wait…</summary>
    public const int MergeDeltasMin = 100_000;

    /// <summary>…or once the oldest has waited this long.</summary>
    public static readonly TimeSpan MergeDelayMax = TimeSpan.FromSeconds(2);

    /// <summary>Deltas copied in one transaction at most (bounds the sort: SQLite spills what its cache cannot hold).</summary>
    public const int GenerationDeltasMax = 250_000;

    private const string Copy = "INSERT INTO rows.customer_rows (customer, seq, delta, amount_units, reason, reference_id, " +
        "metadata, item_hash, received_at, record, receipt, leaf_index) " +
        "SELECT d.customer, d.seq, d.id, d.amount_units, d.reason, d.reference_id, d.metadata, d.item_hash, " +
        "d.received_at, d.record, r.receipt, r.leaf_index FROM main.deltas d JOIN main.records r ON r.id = d.record " +
        "WHERE d.id >= $lo AND d.id < $hi ORDER BY d.customer, d.seq";

    private readonly Func<long> _durableBelow;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _mergeDeltasMin;
    private readonly TimeSpan _mergeDelayMax;
    private readonly SqliteConnection _connection;
    private long _below;

    public CustomerRows(Database database, Sequencer sequencer, TimeProvider time, ILogger<CustomerRows> logger,
        TallyOptions options)
        : this(database, () => sequencer.Head.DeltasBelow, time, logger, options.CustomerRowsMergeDeltasMin,
            options.CustomerRowsMergeDelay)
    {
    }

    internal CustomerRows(Database database, Func<long> durableBelow, TimeProvider time, ILogger logger,
        int mergeDeltasMin, TimeSpan mergeDelayMax)
    {
        _durableBelow = durableBelow;
        _time = time;
        _logger = logger;
        _mergeDeltasMin = mergeDeltasMin;
        _mergeDelayMax = mergeDelayMax;
        // Its own connection: a 250k-row sort must not use a read connection's in-memory temp store, and the page
        // cache it needs (each generation touches every active customer's newest page) is not a reader's.
        _connection = new SqliteConnection(database.ConnectionString);
        _connection.Open();
        database.AttachRows(_connection);
        Database.Execute(_connection, "PRAGMA busy_timeout = 30000; PRAGMA temp_store = FILE; PRAGMA main.cache_size = -8192; " +
            "PRAGMA rows.synchronous = NORMAL; PRAGMA rows.cache_size = -65536; PRAGMA rows.journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = 16384;");
        _below = Database.ReadRowsBelow(_connection);
    }

    public override void Dispose()
    {
        base.Dispose();
        _connection.Dispose();
    }

    /// <summary>Deltas below this id are in customer_rows.</summary>
    public long Below => Interlocked.Read(ref _below);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The copier's nice value on Linux where SCHED_IDLE is refused.</summary>
    public const int ThreadNice = 19;

    private void Run(CancellationToken stop)
    {
        LowerPriority();
        var waitingSince = _time.GetTimestamp();
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var durable = _durableBelow();
            var pending = durable - Below;
            if (pending <= 0)
            {
                waitingSince = _time.GetTimestamp();
            }
            else if (pending >= _mergeDeltasMin || _time.GetElapsedTime(waitingSince) >= _mergeDelayMax)
            {
                try
                {
                    var copied = MergeOnce(durable);
                    failures = 0;
                    if (copied < pending)
                    {
                        continue; // catching up (a rebuilt file): next generation at once
                    }
                    waitingSince = _time.GetTimestamp();
                }
                catch (Exception e) when (e is SqliteException or StoreUnavailableException or IOException)
                {
                    failures++;
                    _logger.LogWarning(e, "copying deltas into customer_rows failed; derive reads the ledger meanwhile");
                    stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Min(10_000, 200 * failures)));
                    continue;
                }
            }
            stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Clamp(_mergeDelayMax.TotalMilliseconds / 4, 20, 200)));
        }
    }

    /// <summary>
    /// Runs this thread under SCHED_IDLE on Linux (nice 19 where that is refused): it gets a CPU only when nothing else
    /// wants one. Copies are deferred work; at nice 10 the copier still took batch ingest 10 % on this 2-core machine,
    /// where the sequencer is the bottleneck. .NET's Thread.Priority does nothing on Linux. Best effort: where both
    /// fail, nothing changes.
    /// </summary>
    private void LowerPriority()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            var tid = Native.GetTid();
            if (Native.SetScheduler(tid, Native.SchedIdle, 0) != 0 && Native.SetPriority(0, tid, ThreadNice) != 0)
            {
                _logger.LogDebug("the customer_rows copier runs at normal priority (sched_setscheduler and setpriority failed)");
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _logger.LogDebug(e, "the customer_rows copier runs at normal priority");
        }
    }

    private static partial class Native
    {
        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setpriority")]
        public static partial int SetPriority(int which, int who, int priority);

        public const int SchedIdle = 5;

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "sched_setscheduler")]
        public static partial int SetScheduler(int pid, int policy, in int priority);

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "gettid")]
        public static partial int GetTid();
    }

    /// <summary>Copies the next generation, up to <paramref name="durableBelow"/>; returns the deltas copied.</summary>
    internal long MergeOnce(long durableBelow)
    {
        var lo = Below;
        var hi = Math.Min(durableBelow, lo + GenerationDeltasMax);
        if (hi <= lo)
        {
            return 0;
        }
        var connection = _connection;
        // Deferred: the INSERT takes customer-rows.db's write lock only; the ledger is read from a snapshot, never
        // locked for writing (BEGIN IMMEDIATE would lock every attached file, the sequencer's too).
        using (var transaction = connection.BeginTransaction(deferred: true))
        {
            using (var copy = connection.CreateCommand())
            {
                copy.Transaction = transaction;
                copy.CommandText = Copy;
                copy.Parameters.AddWithValue("$lo", lo);
                copy.Parameters.AddWithValue("$hi", hi);
                var copied = copy.ExecuteNonQuery();
                if (copied != hi - lo)
                {
                    throw new InvalidOperationException(
                        $"deltas [{lo}, {hi}) are durable but {copied} of {hi - lo} were found with their records");
                }
            }
            using (var meta = connection.CreateCommand())
            {
                meta.Transaction = transaction;
                meta.CommandText = "INSERT OR REPLACE INTO rows.meta (key, value) VALUES ('below', $hi), " +
                    "('below_hash', (SELECT hex(item_hash) FROM main.deltas WHERE id = $last))";
                meta.Parameters.AddWithValue("$hi", hi.ToString(System.Globalization.CultureInfo.InvariantCulture));
                meta.Parameters.AddWithValue("$last", hi - 1);
                meta.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        Interlocked.Exchange(ref _below, hi);
        return hi - lo;
    }
}
