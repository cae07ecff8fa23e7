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

    private readonly Database _database;
    private readonly Lock _gate = new();
    private SqliteConnection? _probeConnection;
    private Statement? _probe;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _mergeDeltasMin;
    private readonly TimeSpan _mergeDelayMax;
    private readonly SqliteConnection _connection;
    private long _below;

    public CustomerRows(Database database, TimeProvider time, ILogger<CustomerRows> logger, TallyOptions options)
        : this(database, time, logger, options.CustomerRowsMergeDeltasMin, options.CustomerRowsMergeDelay)
    {
    }

    internal CustomerRows(Database database, TimeProvider time, ILogger logger, int mergeDeltasMin, TimeSpan mergeDelayMax)
    {
        _database = database;
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
        _probe?.Dispose();
        _probeConnection?.Dispose();
        _connection.Dispose();
    }

    /// <summary>Deltas below this id are in customer_rows.</summary>
    public long Below => Interlocked.Read(ref _below);

    /// <summary>
    /// How far the ledger is durable (<see cref="LogHead.DeltasBelow"/>): set by the <see cref="Sequencer"/> when it
    /// is built; the copier never copies beyond it.
    /// </summary>
    internal Func<long> DurableBelow { get; set; } = () => 1;

    /// <summary>
    /// Copies generations on the calling thread until fewer than <paramref name="lagMax"/> deltas below
    /// <paramref name="durableBelow"/> are left (the sequencer at start, so that the referenceIds it must hold in memory
    /// are bounded). Returns the deltas copied.
    /// </summary>
    public long CatchUp(long durableBelow, long lagMax)
    {
        long copied = 0;
        while (durableBelow - Below > lagMax)
        {
            copied += MergeOnce(durableBelow);
        }
        return copied;
    }

    /// <summary>
    /// The copied delta of <paramref name="customer"/> with this referenceId, or null. For the sequencer's thread only
    /// (its own read connection, autocommit: every probe sees every generation committed before it).
    /// </summary>
    public Sequencer.ExistingDelta? FindByReference(long customer, string referenceId)
    {
        if (_probe is null)
        {
            _probeConnection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = _database.RowsFilePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = 30,
            }.ToString());
            _probeConnection.Open();
            _probe = new Statement(_probeConnection, "SELECT delta, seq, record, item_hash, receipt, leaf_index, " +
                "amount_units, reason, metadata, received_at FROM customer_rows WHERE customer = ?1 AND reference_id = ?2 " +
                "ORDER BY seq LIMIT 1");
        }
        return _probe.Bind(1, customer).Bind(2, referenceId).QueryRow(row => new Sequencer.ExistingDelta(row.Int64(0),
            row.Int64(1), row.Int64(2), row.Blob(3), row.Blob(4), row.Int64(5),
            new DeltaDraft("", Amount.FromUnits(row.Int64(6)), row.Text(7)!, referenceId, row.Text(8)), row.Int64(9)));
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The copier's nice value on Linux: it uses the CPU that emits and reads leave idle.</summary>
    public const int ThreadNice = 10;

    private void Run(CancellationToken stop)
    {
        LowerPriority();
        var waitingSince = _time.GetTimestamp();
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var durable = DurableBelow();
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
    /// Lowers this thread's scheduling priority (Linux: a thread is a task with its own nice value; .NET's
    /// Thread.Priority does nothing there). Copies are deferred work, and on a 2-core machine the copier otherwise takes
    /// CPU from the sequencer and the request threads (batch ingest −10 %). Best effort: where it fails, nothing changes.
    /// </summary>
    private void LowerPriority()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            if (Native.SetPriority(0, Native.GetTid(), ThreadNice) != 0)
            {
                _logger.LogDebug("setpriority for the customer_rows copier failed; it runs at normal priority");
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _logger.LogDebug(e, "no setpriority here; the customer_rows copier runs at normal priority");
        }
    }

    private static partial class Native
    {
        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setpriority")]
        public static partial int SetPriority(int which, int who, int priority);

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "gettid")]
        public static partial int GetTid();
    }

    /// <summary>Copies the next generation, up to <paramref name="durableBelow"/>; returns the deltas copied.</summary>
    internal long MergeOnce(long durableBelow)
    {
        lock (_gate)
        {
            return MergeNext(durableBelow);
        }
    }

    private long MergeNext(long durableBelow)
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
